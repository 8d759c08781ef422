/* The feature chain: elementwise stages, reductions and spectral steps, in
 * place over a [rows][channels] float matrix; streams stack each frame's
 * features; then quantisation into the model's input. */
#include <math.h>
#include <string.h>

#include <zgen/zgen_afe.h>

#include "zgen_internal.h"

static void affine(float *x, uint32_t rows, uint16_t ch, const struct zgen_feature *f)
{
	const float *a = f->tab[0];
	const float *b = f->tab[1];

	/* arg0: 0, one value per channel; 1, one per row and channel (e.g. per band). */
	const uint32_t per_row = f->arg[0] != 0 ? ch : 0U;

	for (uint32_t r = 0; r < rows; r++) {
		for (uint16_t c = 0; c < ch; c++) {
			float *v = &x[r * ch + c];
			const uint32_t i = r * per_row + c;

			switch (f->kind) {
			case ZGEN_FEATURE_NORMALIZE:
				*v = (*v - a[i]) / b[i];
				break;
			case ZGEN_FEATURE_SCALE: {
				float m = *v * a[i];

				*v = m + b[i];
				break;
			}
			default: /* ZGEN_FEATURE_CLIP */
				*v = *v < a[i] ? a[i] : (*v > b[i] ? b[i] : *v);
				break;
			}
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
	case ZGEN_FEATURE_ZCR:
		for (uint32_t i = 1; i < n; i++) {
			bool neg = p[i * ch] < 0.0f;

			acc += (neg != (p[(i - 1U) * ch] < 0.0f)) ? 1.0f : 0.0f;
		}
		return n > 1U ? acc / (float)(n - 1U) : 0.0f;
	default:
		return 0.0f;
	}
}

/* Frame f's outputs land in row f, which lies at or before the rows it was
 * computed from, so the reduction can run in place. */
static uint32_t reduce_frames(float *x, uint32_t rows, uint16_t ch, const struct zgen_feature *f)
{
	uint32_t frames = (uint32_t)f->arg[0];
	uint32_t n = rows / frames;
	float out[ZGEN_MAX_CHANNELS];

	for (uint32_t fr = 0; fr < frames; fr++) {
		for (uint16_t c = 0; c < ch; c++) {
			out[c] = reduce(x, fr * n, n, ch, c, f->kind);
		}
		memcpy(&x[fr * ch], out, ch * sizeof(float));
	}
	return frames;
}

static uint32_t magnitude(float *x, uint32_t rows, uint16_t ch)
{
	for (uint32_t r = 0; r < rows; r++) {
		float acc = 0.0f;

		for (uint16_t c = 0; c < ch; c++) {
			float sq = x[r * ch + c] * x[r * ch + c];

			acc += sq;
		}
		x[r] = sqrtf(acc);
	}
	return rows;
}

static uint32_t decimate(float *x, uint32_t rows, uint16_t ch, uint32_t factor)
{
	float out[ZGEN_MAX_CHANNELS];

	for (uint32_t r = 0; r < rows / factor; r++) {
		for (uint16_t c = 0; c < ch; c++) {
			float acc = 0.0f;

			for (uint32_t i = 0; i < factor; i++) {
				acc += x[(r * factor + i) * ch + c];
			}
			out[c] = acc / (float)factor;
		}
		memcpy(&x[r * ch], out, ch * sizeof(float));
	}
	return rows / factor;
}

static uint32_t diff(float *x, uint32_t rows, uint16_t ch)
{
	for (uint32_t r = 0; r + 1U < rows; r++) {
		for (uint16_t c = 0; c < ch; c++) {
			x[r * ch + c] = x[(r + 1U) * ch + c] - x[r * ch + c];
		}
	}
	return rows - 1U;
}

/* Spectral steps run channel by channel: the channel's column is gathered
 * into scratch, transformed there and written back as the new column. Each
 * output only overwrites its own channel's column, already gathered. */
static uint32_t per_channel(const struct zgen_feature *f, float *x, uint32_t rows, uint16_t ch,
			    float *scratch)
{
	uint32_t out_rows = 0;

	for (uint16_t c = 0; c < ch; c++) {
		float *col = scratch;
		float *res = scratch;

		for (uint32_t r = 0; r < rows; r++) {
			col[r] = x[r * ch + c];
		}
		switch (f->kind) {
		case ZGEN_FEATURE_FFT:
			zgen_fft(f, col, scratch);
			out_rows = (uint32_t)f->arg[0] / 2U + 1U;
			break;
		case ZGEN_FEATURE_FILTERBANK:
			res = &scratch[rows];
			out_rows = zgen_filterbank(f, col, res);
			break;
		default: /* ZGEN_FEATURE_MATRIX */
			res = &scratch[rows];
			out_rows = zgen_matrix(f, col, res);
			break;
		}
		for (uint32_t r = 0; r < out_rows; r++) {
			x[r * ch + c] = res[r];
		}
	}
	return out_rows;
}

static float dequantize_code(const struct zgen_tensor *t, int32_t q)
{
	if (t->dtype == ZGEN_DTYPE_FLOAT32) {
		return (float)q; /* no model yet (training): the codes themselves */
	}
	return (float)(q - t->zero_point) * t->scale;
}

static uint32_t audio_frontend(struct zgen_pipeline *p, const struct zgen_feature *f, float *x,
			       uint32_t rows)
{
	int16_t *frame = (int16_t *)(void *)p->scratch;
	/* int16 frame, then the front end's own scratch (4-byte aligned). */
	void *afe_scratch = &p->scratch[(rows + 1U) / 2U];
	uint32_t channels = (uint32_t)f->arg[ZGEN_AFE_CHANNELS];
	/* The codes go behind the floats they become (x holds at least
	 * channels * 5 bytes: zgen checks the frame is that long). */
	int8_t *codes = (int8_t *)(void *)&x[channels];

	for (uint32_t i = 0; i < rows; i++) {
		float v = x[i];

		v = zgen_clampf(v, -32768.0f, 32767.0f);
		frame[i] = (int16_t)(int32_t)v;
	}
	zgen_afe_frame(f->arg, f->tab, &p->state_words[f->state], afe_scratch, frame, codes);
	for (uint32_t i = 0; i < channels; i++) {
		x[i] = dequantize_code(&p->cfg->input, codes[i]);
	}
	return channels;
}

void zgen_features_reset(struct zgen_pipeline *p)
{
	const struct zgen_config *cfg = p->cfg;

	for (uint8_t i = 0; i < cfg->feature_count; i++) {
		const struct zgen_feature *f = &cfg->features[i];

		if (f->kind == ZGEN_FEATURE_AUDIO_FRONTEND) {
			zgen_afe_reset(f->arg, f->tab, &p->state_words[f->state]);
		}
	}
}

uint32_t zgen_feature_chain(struct zgen_pipeline *p, float *x)
{
	const struct zgen_config *cfg = p->cfg;
	uint16_t ch = cfg->channels;
	uint32_t rows = cfg->window_length;

	for (uint8_t i = 0; i < cfg->feature_count; i++) {
		const struct zgen_feature *f = &cfg->features[i];

		switch (f->kind) {
		case ZGEN_FEATURE_NORMALIZE:
		case ZGEN_FEATURE_SCALE:
		case ZGEN_FEATURE_CLIP:
			affine(x, rows, ch, f);
			break;
		case ZGEN_FEATURE_MAGNITUDE:
			rows = magnitude(x, rows, ch);
			ch = 1;
			break;
		case ZGEN_FEATURE_DECIMATE:
			rows = decimate(x, rows, ch, (uint32_t)f->arg[0]);
			break;
		case ZGEN_FEATURE_DIFF:
			rows = diff(x, rows, ch);
			break;
		case ZGEN_FEATURE_FFT:
		case ZGEN_FEATURE_FILTERBANK:
		case ZGEN_FEATURE_MATRIX:
			rows = per_channel(f, x, rows, ch, p->scratch);
			break;
		case ZGEN_FEATURE_AUDIO_FRONTEND:
			rows = audio_frontend(p, f, x, rows);
			ch = 1;
			break;
		default: /* the reductions */
			rows = reduce_frames(x, rows, ch, f);
			break;
		}
	}
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
