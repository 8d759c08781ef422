/* Time-domain steps (zgen/steps/stats.py): elementwise stages (normalize,
 * scale, clip), the reductions over frames (rms, mean, std, peak, min, max,
 * zcr), channel magnitude, decimation and the first difference, in place over
 * a [rows][channels] float matrix. */
#include <math.h>
#include <string.h>

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

uint32_t zgen_stats_step(const struct zgen_feature *f, float *x, uint32_t rows, uint16_t *ch)
{
	switch (f->kind) {
	case ZGEN_FEATURE_NORMALIZE:
	case ZGEN_FEATURE_SCALE:
	case ZGEN_FEATURE_CLIP:
		affine(x, rows, *ch, f);
		return rows;
	case ZGEN_FEATURE_MAGNITUDE:
		rows = magnitude(x, rows, *ch);
		*ch = 1;
		return rows;
	case ZGEN_FEATURE_DECIMATE:
		return decimate(x, rows, *ch, (uint32_t)f->arg[0]);
	case ZGEN_FEATURE_DIFF:
		return diff(x, rows, *ch);
	default: /* the reductions */
		return reduce_frames(x, rows, *ch, f);
	}
}
