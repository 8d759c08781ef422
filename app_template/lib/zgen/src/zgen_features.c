/* The feature chain: each step of the manifest's chain, in place over a
 * [rows][channels] float matrix, by the family that computes it (zgen_stats.c,
 * zgen_spectral.c, zgen_afe.c); streams stack each frame's features; then
 * quantisation into the model's input. */
#include <string.h>

#include <zgen/zgen_afe.h>

#include "zgen_internal.h"

/* The step families a build links (zgen/steps: one Python module and one
 * source file each). A generated app defines ZGEN_STEPS_SELECTED and one
 * ZGEN_STEPS_<FAMILY> per family its manifest uses, so the dispatcher below
 * references, and the linker keeps, only those; the host build has them all. */
#ifndef ZGEN_STEPS_SELECTED
#define ZGEN_STEPS_STATS 1
#define ZGEN_STEPS_SPECTRAL 1
#define ZGEN_STEPS_AUDIO 1
#endif

void zgen_features_reset(struct zgen_pipeline *p)
{
#ifdef ZGEN_STEPS_AUDIO
	const struct zgen_config *cfg = p->cfg;

	for (uint8_t i = 0; i < cfg->feature_count; i++) {
		const struct zgen_feature *f = &cfg->features[i];

		if (f->kind == ZGEN_FEATURE_AUDIO_FRONTEND) {
			zgen_afe_reset(f->arg, f->tab, &p->state_words[f->state]);
		}
	}
#else
	(void)p; /* no step keeps state between windows */
#endif
}

uint32_t zgen_feature_chain(struct zgen_pipeline *p, float *x)
{
	const struct zgen_config *cfg = p->cfg;
	uint16_t ch = cfg->channels;
	uint32_t rows = cfg->window_length;

	for (uint8_t i = 0; i < cfg->feature_count; i++) {
		const struct zgen_feature *f = &cfg->features[i];

		switch (f->kind) {
#ifdef ZGEN_STEPS_SPECTRAL
		case ZGEN_FEATURE_FFT:
		case ZGEN_FEATURE_FILTERBANK:
		case ZGEN_FEATURE_MATRIX:
			rows = zgen_spectral_step(f, x, rows, ch, p->scratch);
			break;
#endif
#ifdef ZGEN_STEPS_AUDIO
		case ZGEN_FEATURE_AUDIO_FRONTEND:
			rows = zgen_afe_step(p, f, x, rows);
			ch = 1;
			break;
#endif
		default:
#ifdef ZGEN_STEPS_STATS
			rows = zgen_stats_step(f, x, rows, &ch);
#endif
			break;
		}
	}
	(void)x; /* a chain of no steps */
	return rows * ch;
}

static void quantize_one(const struct zgen_tensor *t, float x, void *out, uint32_t i)
{
	if (t->dtype == ZGEN_DTYPE_FLOAT32) {
		((float *)out)[i] = x;
		return;
	}
	float v = x / t->scale;
	int32_t lo = t->dtype == ZGEN_DTYPE_INT8 ? -128 : 0;
	int32_t hi = t->dtype == ZGEN_DTYPE_INT8 ? 127 : 255;
	int32_t q;

	/* Clamp before converting: float-to-int overflow is undefined. */
	v = zgen_clampf(v, -65536.0f, 65536.0f);
	q = (int32_t)(v >= 0.0f ? v + 0.5f : v - 0.5f) + t->zero_point;
	q = q < lo ? lo : (q > hi ? hi : q);
	if (t->dtype == ZGEN_DTYPE_INT8) {
		((int8_t *)out)[i] = (int8_t)q;
	} else {
		((uint8_t *)out)[i] = (uint8_t)q;
	}
}

bool zgen_features(struct zgen_pipeline *p, void *input, float *features)
{
	const struct zgen_config *cfg = p->cfg;
	const uint16_t ch = cfg->channels;
	/* Oldest row first: the ring's rows [head, end) then [0, head). */
	size_t tail = (size_t)(cfg->window_length - p->head) * ch;

	memcpy(p->work, &p->ring[(size_t)p->head * ch], tail * sizeof(float));
	memcpy(&p->work[tail], p->ring, (size_t)p->head * ch * sizeof(float));
	(void)zgen_feature_chain(p, p->work);

	if (cfg->frame_count == 0U) {
		if (features != NULL) {
			memcpy(features, p->work, cfg->input.count * sizeof(float));
		}
		for (uint32_t i = 0; i < cfg->input.count; i++) {
			quantize_one(&cfg->input, p->work[i], input, i);
		}
		return true;
	}
	/* Streams: the frame joins the stack; nothing already computed is computed again. */
	const uint32_t n = cfg->frame_features;

	memcpy(&p->stack[p->stack_head * n], p->work, n * sizeof(float));
	p->stack_head = p->stack_head + 1U == cfg->frame_count ? 0U : p->stack_head + 1U;
	p->frames++;
	if (p->frames < cfg->frame_count || (p->frames - cfg->frame_count) % cfg->frame_stride != 0U) {
		return false;
	}
	/* The model sees the frames oldest first; stack_head is the oldest now. */
	for (uint32_t k = 0; k < cfg->frame_count; k++) {
		uint32_t at = p->stack_head + k;
		const float *fr = &p->stack[(at >= cfg->frame_count ? at - cfg->frame_count : at) * n];

		for (uint32_t i = 0; i < n; i++) {
			quantize_one(&cfg->input, fr[i], input, k * n + i);
		}
		if (features != NULL) {
			memcpy(&features[k * n], fr, n * sizeof(float));
		}
	}
	return true;
}
