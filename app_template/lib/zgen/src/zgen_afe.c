/*
 * TFLM micro_speech's audio front end (see zgen/zgen_afe.h): a port of TFLM's
 * signal library (the .cc files of signal/src and signal/micro/kernels) and of kissfft
 * v130's int16 (FIXED_POINT 16) kiss_fftr, bit for bit.
 *
 * Where the originals rely on what C leaves to the implementation (right
 * shifts of negative values, out-of-range conversions to narrower signed
 * types), GCC's behaviour (arithmetic shift, two's complement wrap) is spelt
 * out with the helpers below, so every compiler gives the same codes. Where
 * TFLM depends on its GCC build (MostSignificantBit32(0) is 32 there), the
 * GCC result is used.
 *
 * At the end, the step as the feature chain runs it (zgen_afe_step).
 */
#include <stddef.h>
#include <stdint.h>

#include "zgen/zgen_afe.h"
#include "zgen_internal.h"

/* One 32-bit scratch word: two int16 samples, a complex int16 value
 * (re, im), or a uint32 energy / channel value. */
union afe_word {
	int16_t s[2];
	uint32_t u;
};

/* kissfft factors a power of two into 4s and at most one 2. */
#define AFE_MAX_FACTORS 16

static inline int32_t asr32(int32_t x, uint32_t shift)
{
	return (x < 0) ? ~(~x >> shift) : (x >> shift);
}

static inline int16_t wrap16(int32_t x)
{
	uint32_t u = (uint32_t)x & 0xFFFFU;

	return (int16_t)((u >= 0x8000U) ? (int32_t)u - 0x10000 : (int32_t)u);
}

static inline int32_t wrap32(uint32_t u)
{
	return (u > (uint32_t)INT32_MAX) ? -(int32_t)(~u) - 1 : (int32_t)u;
}

/* TFLM's MostSignificantBit32 for x != 0: bits needed to hold x. */
static uint32_t msb32(uint32_t x)
{
	uint32_t n = 0U;

	while (x != 0U) {
		x >>= 1;
		n++;
	}
	return n;
}

static uint32_t msb64(uint64_t x)
{
	uint32_t hi = (uint32_t)(x >> 32);

	return (hi != 0U) ? 32U + msb32(hi) : msb32((uint32_t)x);
}

/* signal/src/square_root_32.cc */
static uint16_t sqrt32(uint32_t num)
{
	uint32_t res = 0U;
	uint32_t max_bit_number;
	uint32_t bit;
	uint32_t iterations;

	if (num == 0U) {
		return 0U;
	}
	max_bit_number = (32U - msb32(num)) | 1U;
	bit = (uint32_t)1U << (31U - max_bit_number);
	iterations = (31U - max_bit_number) / 2U + 1U;
	while (iterations-- != 0U) {
		if (num >= res + bit) {
			num -= res + bit;
			res = (res >> 1U) + bit;
		} else {
			res >>= 1U;
		}
		bit >>= 2U;
	}
	if (num > res && res != 0xFFFFU) {
		++res;
	}
	return (uint16_t)res;
}

/* signal/src/square_root_64.cc (its 32-bit shortcut included) */
static uint32_t sqrt64(uint64_t num)
{
	uint64_t res = 0U;
	uint32_t max_bit_number;
	uint64_t bit;
	uint32_t iterations;

	if ((num >> 32) == 0U) {
		return sqrt32((uint32_t)num);
	}
	max_bit_number = (64U - msb64(num)) | 1U;
	bit = (uint64_t)1U << (63U - max_bit_number);
	iterations = (63U - max_bit_number) / 2U + 1U;
	while (iterations-- != 0U) {
		if (num >= res + bit) {
			num -= res + bit;
			res = (res >> 1U) + bit;
		} else {
			res >>= 1U;
		}
		bit >>= 2U;
	}
	if (num > res && res != 0xFFFFFFFFU) {
		++res;
	}
	return (uint32_t)res;
}

/* signal/src/log.cc */
static const uint16_t log_lut[] = {
	0,    224,  442,  654,  861,  1063, 1259, 1450, 1636, 1817, 1992, 2163,
	2329, 2490, 2646, 2797, 2944, 3087, 3224, 3358, 3487, 3611, 3732, 3848,
	3960, 4068, 4172, 4272, 4368, 4460, 4549, 4633, 4714, 4791, 4864, 4934,
	5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408, 5444, 5477, 5507,
	5533, 5557, 5578, 5595, 5610, 5622, 5631, 5637, 5640, 5641, 5638, 5633,
	5626, 5615, 5602, 5586, 5568, 5547, 5524, 5498, 5470, 5439, 5406, 5370,
	5332, 5291, 5249, 5203, 5156, 5106, 5054, 5000, 4944, 4885, 4825, 4762,
	4697, 4630, 4561, 4490, 4416, 4341, 4264, 4184, 4103, 4020, 3935, 3848,
	3759, 3668, 3575, 3481, 3384, 3286, 3186, 3084, 2981, 2875, 2768, 2659,
	2549, 2437, 2323, 2207, 2090, 1971, 1851, 1729, 1605, 1480, 1353, 1224,
	1094, 963,  830,  695,  559,  421,  282,  142,  0,    0,
};

/* Log32 for x > 1: round(out_scale * ln(x)), scaled by 2^16 internally. */
static uint32_t log32(uint32_t x, uint32_t out_scale)
{
	uint32_t integer = msb32(x) - 1U;
	int32_t frac = (int32_t)(x - ((uint32_t)1U << integer));
	uint32_t base_seg;
	int32_t c0;
	int32_t c1;
	int32_t rel_pos;
	uint32_t fraction;
	uint32_t log2;
	uint32_t loge;

	if (integer < 16U) {
		frac <<= 16U - integer;
	} else {
		frac >>= integer - 16U;
	}
	base_seg = (uint32_t)frac >> 9;
	c0 = log_lut[base_seg];
	c1 = log_lut[base_seg + 1U];
	rel_pos = asr32((c1 - c0) * (frac - (int32_t)(512U * base_seg)), 16U);
	fraction = (uint32_t)(frac + c0 + rel_pos);
	log2 = (integer << 16) + fraction;
	loge = (uint32_t)(((uint64_t)45426U * log2 + 32768U) >> 16);
	return (out_scale * loge + 32768U) >> 16;
}

/* signal/src/pcan_argc_fixed.cc WideDynamicFunction */
static int16_t pcan_gain(uint32_t x, const int16_t *lut)
{
	uint32_t interval;
	int32_t frac;
	int32_t result;

	if (x <= 2U) {
		return lut[x];
	}
	interval = msb32(x);
	lut += 4U * interval - 6U;
	frac = (int32_t)(((interval < 11U) ? (x << (11U - interval)) : (x >> (interval - 11U))) &
			 0x3FFU);
	result = asr32((int32_t)lut[2] * frac, 5U);
	result = wrap32((uint32_t)result + ((uint32_t)(int32_t)lut[1] << 5));
	result = wrap32((uint32_t)result * (uint32_t)frac);
	result = asr32(wrap32((uint32_t)result + (1U << 14)), 15U);
	return wrap16(result + lut[0]);
}

/* PcanShrink: kPcanSnrBits 12, kPcanOutputBits 6. */
static uint32_t pcan_shrink(uint32_t x)
{
	if (x < (2U << 12)) {
		return (x * x) >> (2 + 2 * 12 - 6);
	}
	return (x >> (12 - 6)) - (1U << 6);
}

/* kissfft FIXED_POINT 16 arithmetic (_kiss_fft_guts.h). */

static inline int16_t sround(int32_t x)
{
	return wrap16(asr32(x + (1 << 14), 15U));
}

/* C_FIXDIV(c, div): c = sround(c * (SAMP_MAX / div)) */
static inline void fixdiv(int16_t *c, int32_t div)
{
	c[0] = sround((int32_t)c[0] * (32767 / div));
	c[1] = sround((int32_t)c[1] * (32767 / div));
}

/* C_MUL(m, a, b) with b a twiddle (|b| <= 32767.5: no int32 overflow). */
static inline void cmul(int16_t *m, const int16_t *a, const int16_t *b)
{
	int16_t r = sround((int32_t)a[0] * b[0] - (int32_t)a[1] * b[1]);
	int16_t i = sround((int32_t)a[0] * b[1] + (int32_t)a[1] * b[0]);

	m[0] = r;
	m[1] = i;
}

static void bfly2(union afe_word *f, const int16_t *tw, uint32_t fstride, uint32_t m)
{
	uint32_t k;

	for (k = 0U; k < m; k++) {
		int16_t a[2] = {f[k].s[0], f[k].s[1]};
		int16_t b[2] = {f[k + m].s[0], f[k + m].s[1]};
		int16_t t[2];

		fixdiv(a, 2);
		fixdiv(b, 2);
		cmul(t, b, &tw[2U * k * fstride]);
		f[k + m].s[0] = wrap16(a[0] - t[0]);
		f[k + m].s[1] = wrap16(a[1] - t[1]);
		f[k].s[0] = wrap16(a[0] + t[0]);
		f[k].s[1] = wrap16(a[1] + t[1]);
	}
}

static void bfly4(union afe_word *f, const int16_t *tw, uint32_t fstride, uint32_t m)
{
	uint32_t k;

	for (k = 0U; k < m; k++) {
		int16_t f0[2] = {f[k].s[0], f[k].s[1]};
		int16_t f1[2] = {f[k + m].s[0], f[k + m].s[1]};
		int16_t f2[2] = {f[k + 2U * m].s[0], f[k + 2U * m].s[1]};
		int16_t f3[2] = {f[k + 3U * m].s[0], f[k + 3U * m].s[1]};
		int16_t s0[2];
		int16_t s1[2];
		int16_t s2[2];
		int16_t s3[2];
		int16_t s4[2];
		int16_t s5[2];

		fixdiv(f0, 4);
		fixdiv(f1, 4);
		fixdiv(f2, 4);
		fixdiv(f3, 4);
		cmul(s0, f1, &tw[2U * k * fstride]);
		cmul(s1, f2, &tw[4U * k * fstride]);
		cmul(s2, f3, &tw[6U * k * fstride]);
		s5[0] = wrap16(f0[0] - s1[0]);
		s5[1] = wrap16(f0[1] - s1[1]);
		f0[0] = wrap16(f0[0] + s1[0]);
		f0[1] = wrap16(f0[1] + s1[1]);
		s3[0] = wrap16(s0[0] + s2[0]);
		s3[1] = wrap16(s0[1] + s2[1]);
		s4[0] = wrap16(s0[0] - s2[0]);
		s4[1] = wrap16(s0[1] - s2[1]);
		f[k + 2U * m].s[0] = wrap16(f0[0] - s3[0]);
		f[k + 2U * m].s[1] = wrap16(f0[1] - s3[1]);
		f[k].s[0] = wrap16(f0[0] + s3[0]);
		f[k].s[1] = wrap16(f0[1] + s3[1]);
		f[k + m].s[0] = wrap16(s5[0] + s4[1]);
		f[k + m].s[1] = wrap16(s5[1] - s4[0]);
		f[k + 3U * m].s[0] = wrap16(s5[0] - s4[1]);
		f[k + 3U * m].s[1] = wrap16(s5[1] + s4[0]);
	}
}

/* kiss_fft of n (a power of two) complex points, out of place: kf_work's
 * recursion unrolled (digit-reversed copy, then the butterflies from the
 * innermost stage out; the blocks of a stage are independent). */
static void afe_fft(const union afe_word *in, union afe_word *out, uint32_t n, const int16_t *tw)
{
	uint32_t p[AFE_MAX_FACTORS];
	uint32_t m[AFE_MAX_FACTORS];
	uint32_t stages = 0U;
	uint32_t rest = n;
	uint32_t j;
	uint32_t s;

	while (rest > 1U && stages < AFE_MAX_FACTORS) {
		p[stages] = ((rest % 4U) == 0U) ? 4U : 2U;
		rest /= p[stages];
		m[stages] = rest;
		stages++;
	}
	for (j = 0U; j < n; j++) {
		uint32_t r = j;
		uint32_t idx = 0U;
		uint32_t stride = 1U;

		for (s = 0U; s < stages; s++) {
			idx += (r / m[s]) * stride;
			r %= m[s];
			stride *= p[s];
		}
		out[j] = in[idx];
	}
	for (s = stages; s-- > 0U;) {
		uint32_t fstride = n / (p[s] * m[s]);
		uint32_t b;

		for (b = 0U; b < fstride; b++) {
			union afe_word *f = &out[b * p[s] * m[s]];

			if (p[s] == 4U) {
				bfly4(f, tw, fstride, m[s]);
			} else {
				bfly2(f, tw, fstride, m[s]);
			}
		}
	}
}

/* kiss_fftr's split of the half-length complex FFT into the real FFT's
 * ncfft + 1 bins, in place (spec holds ncfft + 1 words). */
static void afe_fftr_split(union afe_word *spec, uint32_t ncfft, const int16_t *super_tw)
{
	int16_t tdc[2] = {spec[0].s[0], spec[0].s[1]};
	uint32_t k;

	fixdiv(tdc, 2);
	spec[0].s[0] = wrap16(tdc[0] + tdc[1]);
	spec[ncfft].s[0] = wrap16(tdc[0] - tdc[1]);
	spec[0].s[1] = 0;
	spec[ncfft].s[1] = 0;
	for (k = 1U; k <= ncfft / 2U; k++) {
		int16_t fpk[2] = {spec[k].s[0], spec[k].s[1]};
		int16_t fpnk[2] = {spec[ncfft - k].s[0], wrap16(-(int32_t)spec[ncfft - k].s[1])};
		int16_t f1k[2];
		int16_t f2k[2];
		int16_t tw[2];

		fixdiv(fpk, 2);
		fixdiv(fpnk, 2);
		f1k[0] = wrap16(fpk[0] + fpnk[0]);
		f1k[1] = wrap16(fpk[1] + fpnk[1]);
		f2k[0] = wrap16(fpk[0] - fpnk[0]);
		f2k[1] = wrap16(fpk[1] - fpnk[1]);
		cmul(tw, f2k, &super_tw[2U * (k - 1U)]);
		spec[k].s[0] = wrap16(asr32(f1k[0] + tw[0], 1U));
		spec[k].s[1] = wrap16(asr32(f1k[1] + tw[1], 1U));
		spec[ncfft - k].s[0] = wrap16(asr32(f1k[0] - tw[0], 1U));
		spec[ncfft - k].s[1] = wrap16(asr32(tw[1] - f1k[1], 1U));
	}
}

/* Scratch: `time` words (the FFT input, two samples a word; later the
 * channel values), then ncfft + 1 spectrum words (complex, then energies). */
static uint32_t time_words(const int32_t *arg)
{
	uint32_t half = (uint32_t)arg[ZGEN_AFE_FFT_LEN] / 2U;
	uint32_t channels = (uint32_t)arg[ZGEN_AFE_CHANNELS];

	return (half > channels) ? half : channels;
}

uint32_t zgen_afe_state_words(const int32_t *arg)
{
	return (uint32_t)arg[ZGEN_AFE_CHANNELS];
}

uint32_t zgen_afe_scratch_bytes(const int32_t *arg)
{
	return 4U * (time_words(arg) + (uint32_t)arg[ZGEN_AFE_FFT_LEN] / 2U + 1U);
}

void zgen_afe_reset(const int32_t *arg, const void *const *tab, uint32_t *state)
{
	uint32_t i;

	(void)tab;
	for (i = 0U; i < (uint32_t)arg[ZGEN_AFE_CHANNELS]; i++) {
		state[i] = 0U;
	}
}

/* signal/src/window.cc then fft_auto_scale.cc (with max_abs.cc's int16
 * maximum, which wraps for -32768). Returns the scale bits. */
static uint32_t window_and_scale(const int32_t *arg, const int16_t *window, const int16_t *frame,
				 union afe_word *time)
{
	uint32_t len = (uint32_t)arg[ZGEN_AFE_FRAME_LEN];
	uint32_t shift = (uint32_t)arg[ZGEN_AFE_WINDOW_SHIFT];
	uint32_t n = (uint32_t)arg[ZGEN_AFE_FFT_LEN];
	int32_t max = 0;
	uint32_t scale = 0U;
	uint32_t j;

	for (j = 0U; j < len; j++) {
		int32_t raw = asr32((int32_t)frame[j] * window[j], shift);
		int16_t v = (raw < INT16_MIN) ? INT16_MIN
			    : ((raw > INT16_MAX) ? INT16_MAX : (int16_t)raw);

		time[j >> 1].s[j & 1U] = v;
		if (v > max) {
			max = v;
		} else if (-v > max) {
			max = wrap16(-(int32_t)v);
		}
	}
	/* 16 - MostSignificantBit32(max) - 1, at least 0; a max <= 0 has 32
	 * bits (GCC's MostSignificantBit32(0) and negative maxima). */
	if (max > 0) {
		uint32_t bits = msb32((uint32_t)max);

		scale = (bits < 15U) ? 15U - bits : 0U;
	}
	for (j = 0U; j < len; j++) {
		time[j >> 1].s[j & 1U] = wrap16((int32_t)time[j >> 1].s[j & 1U] * (1 << scale));
	}
	for (j = len; j < n; j++) {
		time[j >> 1].s[j & 1U] = 0;
	}
	return scale;
}

/* signal/src/filter_bank.cc and filter_bank_square_root.cc: each channel's
 * weighted energy sum, its square root, >> scale. */
static void filter_bank(const int32_t *arg, const void *const *tab, const union afe_word *energy,
			uint32_t scale, union afe_word *chan)
{
	const int16_t *weights = tab[ZGEN_AFE_TAB_FB_WEIGHTS];
	const int16_t *unweights = tab[ZGEN_AFE_TAB_FB_UNWEIGHTS];
	const int16_t *freq_starts = tab[ZGEN_AFE_TAB_FB_FREQ_STARTS];
	const int16_t *weight_starts = tab[ZGEN_AFE_TAB_FB_WEIGHT_STARTS];
	const int16_t *widths = tab[ZGEN_AFE_TAB_FB_WIDTHS];
	uint32_t channels = (uint32_t)arg[ZGEN_AFE_CHANNELS];
	uint64_t weight_acc = 0U;
	uint64_t unweight_acc = 0U;
	uint32_t i;

	for (i = 0U; i <= channels; i++) {
		const union afe_word *in = &energy[freq_starts[i]];
		const int16_t *w = &weights[weight_starts[i]];
		const int16_t *uw = &unweights[weight_starts[i]];
		int32_t j;

		for (j = 0; j < widths[i]; j++) {
			weight_acc += (uint64_t)(int64_t)w[j] * (uint64_t)in[j].u;
			unweight_acc += (uint64_t)(int64_t)uw[j] * (uint64_t)in[j].u;
		}
		/* Channel 0 only collects the unweights of channel 1. */
		if (i > 0U) {
			chan[i - 1U].u = sqrt64(weight_acc) >> scale;
		}
		weight_acc = unweight_acc;
		unweight_acc = 0U;
	}
}

/* signal/src/filter_bank_spectral_subtraction.cc, then pcan_argc_fixed.cc
 * (with the updated noise estimate), in place. */
static void noise_and_gain(const int32_t *arg, const int16_t *lut, uint32_t *noise,
			   union afe_word *chan)
{
	uint32_t channels = (uint32_t)arg[ZGEN_AFE_CHANNELS];
	uint32_t bits = (uint32_t)arg[ZGEN_AFE_SS_BITS];
	uint32_t smoothing_bits = (uint32_t)arg[ZGEN_AFE_SS_SMOOTHING_BITS];
	uint32_t min_remaining = (uint32_t)arg[ZGEN_AFE_SS_MIN_REMAINING];
	uint32_t snr_shift = (uint32_t)arg[ZGEN_AFE_PCAN_SNR_SHIFT];
	uint32_t i;

	for (i = 0U; i < channels; i++) {
		/* Odd channels use the alternate smoothing. */
		uint32_t smoothing = (uint32_t)arg[((i & 1U) == 0U) ? ZGEN_AFE_SS_SMOOTHING
								    : ZGEN_AFE_SS_ALT_SMOOTHING];
		uint32_t one_minus = ((uint32_t)1U << bits) - smoothing;
		uint32_t in = chan[i].u;
		uint32_t signal_scaled_up = in << smoothing_bits;
		uint32_t estimate;
		uint32_t kept;
		uint32_t subtracted;
		uint32_t out;
		uint32_t gain;
		uint32_t snr;

		noise[i] = (uint32_t)(((uint64_t)signal_scaled_up * smoothing +
				       (uint64_t)noise[i] * one_minus) >> bits);
		estimate = noise[i];
		if (estimate > signal_scaled_up) {
			estimate = signal_scaled_up;
			if (arg[ZGEN_AFE_SS_CLAMPING] != 0) {
				noise[i] = estimate;
			}
		}
		kept = (uint32_t)(((uint64_t)in * min_remaining) >> bits);
		subtracted = (signal_scaled_up - estimate) >> smoothing_bits;
		out = (subtracted > kept) ? subtracted : kept;

		gain = (uint32_t)(int32_t)pcan_gain(noise[i], lut);
		snr = (uint32_t)(((uint64_t)out * gain) >> snr_shift);
		chan[i].u = pcan_shrink(snr);
	}
}

void zgen_afe_frame(const int32_t *arg, const void *const *tab, uint32_t *state, void *scratch,
		    const int16_t *frame, int8_t *out)
{
	union afe_word *time = scratch;
	union afe_word *spec = &time[time_words(arg)];
	const int16_t *twiddles = tab[ZGEN_AFE_TAB_TWIDDLES];
	uint32_t ncfft = (uint32_t)arg[ZGEN_AFE_FFT_LEN] / 2U;
	uint32_t start = (uint32_t)arg[ZGEN_AFE_ENERGY_START];
	uint32_t end = (uint32_t)arg[ZGEN_AFE_ENERGY_END];
	uint32_t channels = (uint32_t)arg[ZGEN_AFE_CHANNELS];
	uint32_t correction = (uint32_t)arg[ZGEN_AFE_LOG_CORRECTION];
	uint32_t log_scale = (uint32_t)arg[ZGEN_AFE_LOG_SCALE];
	int32_t div = arg[ZGEN_AFE_OUT_DIV];
	uint32_t scale;
	uint32_t i;

	scale = window_and_scale(arg, tab[ZGEN_AFE_TAB_WINDOW], frame, time);

	/* signal/src/rfft_int16.cc: kiss_fftr */
	afe_fft(time, spec, ncfft, twiddles);
	afe_fftr_split(spec, ncfft, &twiddles[2U * ncfft]);

	/* signal/src/energy.cc on [start, end); the model zeroes the rest. */
	for (i = 0U; i <= ncfft; i++) {
		if (i >= start && i < end) {
			int32_t re = spec[i].s[0];
			int32_t im = spec[i].s[1];

			spec[i].u = (uint32_t)(re * re) + (uint32_t)(im * im);
		} else {
			spec[i].u = 0U;
		}
	}

	filter_bank(arg, tab, spec, scale, time);
	noise_and_gain(arg, tab[ZGEN_AFE_TAB_PCAN_LUT], state, time);

	/* signal/src/filter_bank_log.cc, then the example's int8 rescale:
	 * (feature * 256 + div / 2) / div - 128, clamped to int8. */
	for (i = 0U; i < channels; i++) {
		uint32_t scaled = time[i].u << correction;
		int32_t feature = 0;
		int32_t code;

		if (scaled > 1U) {
			uint32_t v = log32(scaled, log_scale);

			feature = (v < (uint32_t)INT16_MAX) ? (int32_t)v : INT16_MAX;
		}
		code = (feature * 256 + div / 2) / div - 128;
		if (code < INT8_MIN) {
			code = INT8_MIN;
		} else if (code > INT8_MAX) {
			code = INT8_MAX;
		}
		out[i] = (int8_t)code;
	}
}

/* A code as the model input's float (what the feature chain carries). */
static float dequantize_code(const struct zgen_tensor *t, int32_t q)
{
	if (t->dtype == ZGEN_DTYPE_FLOAT32) {
		return (float)q; /* no model yet (training): the codes themselves */
	}
	return (float)(q - t->zero_point) * t->scale;
}

/* The step in a pipeline (zgen_features.c's dispatcher): x[0, rows) holds one
 * frame of samples, then the channels' dequantised codes. */
uint32_t zgen_afe_step(struct zgen_pipeline *p, const struct zgen_feature *f, float *x, uint32_t rows)
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
