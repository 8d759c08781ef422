/* The feature chain: elementwise stages and frame reductions, in place over a
 * [rows][channels] float matrix, then quantisation into the model's input. */
#include <math.h>
#include <string.h>

#include "zgen_internal.h"

static void normalize(float *x, uint32_t rows, uint16_t ch, const struct zgen_feature *f)
{
	for (uint32_t r = 0; r < rows; r++) {
		for (uint16_t c = 0; c < ch; c++) {
			float *v = &x[r * ch + c];

			*v = (*v - f->a[c]) / f->b[c];
		}
	}
}

/* One frame of one channel: rows [r0, r0 + n) of column c. Sums run in row
 * order so that every platform adds the same numbers in the same order. */
static float reduce(const float *x, uint32_t r0, uint32_t n, uint16_t ch, uint16_t c,
		    uint8_t kind)
{
	const float *p = &x[r0 * ch + c];
	float acc = 0.0f;

	switch (kind) {
	case ZGEN_FEATURE_RMS:
		for (uint32_t i = 0; i < n; i++) {
			float sq = p[i * ch] * p[i * ch];

			acc += sq;
		}
		return sqrtf(acc / (float)n);
	case ZGEN_FEATURE_MEAN:
		for (uint32_t i = 0; i < n; i++) {
			acc += p[i * ch];
		}
		return acc / (float)n;
	case ZGEN_FEATURE_STD: {
		float mean;

		for (uint32_t i = 0; i < n; i++) {
			acc += p[i * ch];
		}
		mean = acc / (float)n;
		acc = 0.0f;
		for (uint32_t i = 0; i < n; i++) {
			float d = p[i * ch] - mean;
			float sq = d * d;

			acc += sq;
		}
		return sqrtf(acc / (float)n);
	}
	case ZGEN_FEATURE_PEAK:
		for (uint32_t i = 0; i < n; i++) {
			float a = fabsf(p[i * ch]);

			acc = a > acc ? a : acc;
		}
		return acc;
	case ZGEN_FEATURE_MIN:
	case ZGEN_FEATURE_MAX:
		acc = p[0];
		for (uint32_t i = 1; i < n; i++) {
			float v = p[i * ch];

			if (kind == ZGEN_FEATURE_MIN ? v < acc : v > acc) {
				acc = v;
			}
		}
		return acc;
	default:
		return 0.0f;
	}
}

/* Frame f's outputs land in row f, which lies at or before the rows it was
 * computed from, so the reduction can run in place. */
static uint32_t reduce_frames(float *x, uint32_t rows, uint16_t ch, const struct zgen_feature *f)
{
	uint32_t n = rows / f->frames;
	float out[ZGEN_MAX_CHANNELS];

	for (uint32_t fr = 0; fr < f->frames; fr++) {
		for (uint16_t c = 0; c < ch; c++) {
			out[c] = reduce(x, fr * n, n, ch, c, f->kind);
		}
		memcpy(&x[fr * ch], out, ch * sizeof(float));
	}
	return f->frames;
}

static void quantize(const struct zgen_tensor *t, const float *x, void *out)
{
	for (uint32_t i = 0; i < t->count; i++) {
		if (t->dtype == ZGEN_DTYPE_FLOAT32) {
			((float *)out)[i] = x[i];
			continue;
		}
		float v = x[i] / t->scale;
		int32_t lo = t->dtype == ZGEN_DTYPE_INT8 ? -128 : 0;
		int32_t hi = t->dtype == ZGEN_DTYPE_INT8 ? 127 : 255;
		int32_t q;

		/* Clamp before converting: float-to-int overflow is undefined. */
		v = v > 65536.0f ? 65536.0f : (v < -65536.0f ? -65536.0f : v);
		q = (int32_t)(v >= 0.0f ? v + 0.5f : v - 0.5f) + t->zero_point;
		q = q < lo ? lo : (q > hi ? hi : q);
		if (t->dtype == ZGEN_DTYPE_INT8) {
			((int8_t *)out)[i] = (int8_t)q;
		} else {
			((uint8_t *)out)[i] = (uint8_t)q;
		}
	}
}

void zgen_features(struct zgen_pipeline *p, void *input, float *features)
{
	const struct zgen_config *cfg = p->cfg;
	const uint16_t ch = cfg->channels;
	uint32_t rows = cfg->window_length;
	/* Oldest row first: the ring's rows [head, end) then [0, head). */
	size_t tail = (size_t)(cfg->window_length - p->head) * ch;

	memcpy(p->work, &p->ring[(size_t)p->head * ch], tail * sizeof(float));
	memcpy(&p->work[tail], p->ring, (size_t)p->head * ch * sizeof(float));

	for (uint8_t i = 0; i < cfg->feature_count; i++) {
		const struct zgen_feature *f = &cfg->features[i];

		if (f->kind == ZGEN_FEATURE_NORMALIZE) {
			normalize(p->work, rows, ch, f);
		} else {
			rows = reduce_frames(p->work, rows, ch, f);
		}
	}
	if (features != NULL) {
		memcpy(features, p->work, cfg->input.count * sizeof(float));
	}
	quantize(&cfg->input, p->work, input);
}
