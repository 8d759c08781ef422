/* Helpers shared by the runtime's sources; not part of the public API. */
#ifndef ZGEN_INTERNAL_H_
#define ZGEN_INTERNAL_H_

#include <zgen/zgen.h>

/* Append-only line builder: never writes past ZGEN_LINE_MAX - 1 characters. */
struct zgen_buf {
	char *s;
	size_t len;
};

void zgen_buf_init(struct zgen_buf *b, char *line);
void zgen_buf_str(struct zgen_buf *b, const char *s);
void zgen_buf_u32(struct zgen_buf *b, uint32_t v);
void zgen_buf_i32(struct zgen_buf *b, int32_t v);
/* A non-negative or negative float as fixed point with `decimals` digits,
 * rounded half away from zero; values beyond +-2e9 print as the bound. */
void zgen_buf_fixed(struct zgen_buf *b, float v, uint8_t decimals);
size_t zgen_buf_end(struct zgen_buf *b);

/* Resets the feature steps' state (zgen_init). */
void zgen_features_reset(struct zgen_pipeline *p);

/* The step families (zgen_features.c dispatches to them): each runs one step
 * record in place over x ([rows][ch] floats) and returns the rows it leaves. */
uint32_t zgen_stats_step(const struct zgen_feature *f, float *x, uint32_t rows, uint16_t *ch);
uint32_t zgen_spectral_step(const struct zgen_feature *f, float *x, uint32_t rows, uint16_t ch,
			    float *scratch);
uint32_t zgen_afe_step(struct zgen_pipeline *p, const struct zgen_feature *f, float *x, uint32_t rows);

/* Spectral steps (zgen_spectral.c), over one channel's contiguous values. */
void zgen_fft(const struct zgen_feature *f, float *x, float *scratch);
uint32_t zgen_filterbank(const struct zgen_feature *f, const float *in, float *out);
uint32_t zgen_matrix(const struct zgen_feature *f, const float *in, float *out);
/* Natural logarithm of x > 0 from float arithmetic alone (identical on every
 * libc): x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln m by its atanh series. */
float zgen_logf(float x);

/* x limited to [lo, hi] before a float-to-integer conversion (undefined in C for a NaN or a value
 * out of range): a NaN (a sensor's, or inf - inf in a step) becomes 0. */
static inline float zgen_clampf(float x, float lo, float hi)
{
	if (x != x) {
		return 0.0f;
	}
	return x < lo ? lo : (x > hi ? hi : x);
}

/* Dequantised element i of a model tensor. */
float zgen_tensor_get(const struct zgen_tensor *t, const void *data, uint32_t i);

#endif /* ZGEN_INTERNAL_H_ */
