/* Spectral steps: windowed real FFT, sparse filter banks (band energies,
 * mel), matrices (the DCT of MFCC) and a logarithm every libc computes alike.
 * Tables (window, twiddles, filter weights, DCT) come from the step's Python
 * description as float32 constants: no transcendental is evaluated here. */
#include <math.h>
#include <string.h>

#include "zgen_internal.h"

/* x: arg0 real samples in, arg0 / 2 + 1 magnitudes or powers out (at x[0..]).
 * scratch: 2 * arg0 floats, which may start at x. Radix-2, decimation in time,
 * on arg0 complex points (imaginary parts zero): every bin is a fixed sequence
 * of float operations. */
void zgen_fft(const struct zgen_feature *f, float *x, float *scratch)
{
	const uint32_t n = (uint32_t)f->arg[0];
	const float *window = f->tab[0];
	const float *tw = f->tab[1]; /* cos, sin pairs of 2 pi k / n, k < n / 2 */
	float *z = scratch;
	uint32_t bits = 0;

	while ((1UL << bits) < n) {
		bits++;
	}
	/* Windowed samples, backwards so that x may alias z's real parts. */
	for (uint32_t i = n; i-- > 0U;) {
		float v = x[i] * window[i];

		z[2U * i] = v;
		z[2U * i + 1U] = 0.0f;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t j = 0;

		for (uint32_t b = 0; b < bits; b++) {
			j |= ((i >> b) & 1U) << (bits - 1U - b);
		}
		if (j > i) {
			float re = z[2U * i];

			z[2U * i] = z[2U * j];
			z[2U * j] = re;
			/* imaginary parts are all zero here */
		}
	}
	for (uint32_t len = 2; len <= n; len <<= 1) {
		const uint32_t half = len / 2U;
		const uint32_t step = n / len;

		for (uint32_t i = 0; i < n; i += len) {
			for (uint32_t j = 0; j < half; j++) {
				const float wr = tw[2U * j * step];
				const float wi = -tw[2U * j * step + 1U]; /* e^(-i 2 pi k / n) */
				float *u = &z[2U * (i + j)];
				float *v = &z[2U * (i + j + half)];
				float a = v[0] * wr;
				float b = v[1] * wi;
				float c = v[0] * wi;
				float d = v[1] * wr;
				float vr = a - b;
				float vi = c + d;

				v[0] = u[0] - vr;
				v[1] = u[1] - vi;
				u[0] = u[0] + vr;
				u[1] = u[1] + vi;
			}
		}
	}
	for (uint32_t k = 0; k <= n / 2U; k++) {
		float re2 = z[2U * k] * z[2U * k];
		float im2 = z[2U * k + 1U] * z[2U * k + 1U];
		float power = re2 + im2;

		x[k] = f->arg[1] != 0 ? power : sqrtf(power);
	}
}

uint32_t zgen_filterbank(const struct zgen_feature *f, const float *in, float *out)
{
	const uint32_t bands = (uint32_t)f->arg[0];
	const uint16_t *offset = f->tab[0]; /* bands + 1: each band's first weight */
	const uint16_t *first = f->tab[1];  /* bands: each band's first bin */
	const float *weight = f->tab[2];
	const float *floor_ = f->tab[3];    /* added before the logarithm */

	for (uint32_t b = 0; b < bands; b++) {
		float acc = 0.0f;

		for (uint32_t i = 0; i < (uint32_t)(offset[b + 1U] - offset[b]); i++) {
			float w = weight[offset[b] + i] * in[first[b] + i];

			acc += w;
		}
		out[b] = f->arg[1] != 0 ? zgen_logf(acc + floor_[0]) : acc;
	}
	return bands;
}

uint32_t zgen_matrix(const struct zgen_feature *f, const float *in, float *out)
{
	const uint32_t rows = (uint32_t)f->arg[0];
	const uint32_t cols = (uint32_t)f->arg[1];
	const float *m = f->tab[0];

	for (uint32_t o = 0; o < rows; o++) {
		float acc = 0.0f;

		for (uint32_t i = 0; i < cols; i++) {
			float w = m[o * cols + i] * in[i];

			acc += w;
		}
		out[o] = acc;
	}
	return rows;
}

float zgen_logf(float x)
{
	union {
		float f;
		uint32_t u;
	} v = {.f = x};
	int32_t e;
	float m, s, s2, poly;

	if (!(x > 0.0f)) {
		return -87.336544f; /* ln of the smallest normal float: log(0) and NaN end here */
	}
	if (x > 3.4028235e38f) {
		return 88.72284f;
	}
	e = 0;
	if (v.u < 0x00800000U) { /* subnormal: scale into the normal range */
		v.f = x * 8388608.0f;
		e = -23;
	}
	e += (int32_t)((v.u >> 23) & 0xffU) - 127;
	v.u = (v.u & 0x007fffffU) | 0x3f800000U; /* m in [1, 2) */
	m = v.f;
	if (m > 1.41421356f) {
		m = m * 0.5f;
		e++;
	}
	/* ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172 */
	s = (m - 1.0f) / (m + 1.0f);
	s2 = s * s;
	poly = 1.0f / 11.0f;
	poly = poly * s2 + 1.0f / 9.0f;
	poly = poly * s2 + 1.0f / 7.0f;
	poly = poly * s2 + 1.0f / 5.0f;
	poly = poly * s2 + 1.0f / 3.0f;
	poly = poly * s2 + 1.0f;
	poly = 2.0f * s * poly;
	/* e ln 2 in two parts: 0.693359375 is exact in 10 bits, so e times it is exact. */
	return ((float)e * -2.12194440e-4f + poly) + (float)e * 0.693359375f;
}

/* Spectral steps run channel by channel: the channel's column is gathered
 * into scratch, transformed there and written back as the new column. Each
 * output only overwrites its own channel's column, already gathered. */
uint32_t zgen_spectral_step(const struct zgen_feature *f, float *x, uint32_t rows, uint16_t ch,
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
