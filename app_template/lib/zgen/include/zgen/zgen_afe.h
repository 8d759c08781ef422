/*
 * TFLM micro_speech's audio front end in plain C: a bit-exact, integer-only
 * port of the TFLite model that tflite-micro's micro_speech example builds
 * from TFLM's signal ops (audio_preprocessor.py): Hann window, FFT auto scale,
 * int16 kissfft real FFT, energy, mel filter bank, square root, spectral
 * subtraction, PCAN gain control, log and the example's int8 rescale.
 *
 * One frame of arg[ZGEN_AFE_FRAME_LEN] int16 samples in, int8
 * [arg[ZGEN_AFE_CHANNELS]] out. The noise estimate is kept between frames
 * (state), so frames are fed in order. No heap, no libm: the constant tables
 * (window, FFT twiddles, filter bank, PCAN gain) are computed by
 * zgen/steps/audio_frontend.py, exactly as TFLM's Python op builders do.
 */
#ifndef ZGEN_ZGEN_AFE_H_
#define ZGEN_ZGEN_AFE_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Integer parameters: indices into arg[]. */
enum zgen_afe_arg {
	ZGEN_AFE_FRAME_LEN = 0,         /* samples per frame (window length) */
	ZGEN_AFE_FFT_LEN = 1,           /* real FFT length: a power of two >= 4 and >= FRAME_LEN */
	ZGEN_AFE_WINDOW_SHIFT = 2,      /* window weights' fractional bits */
	ZGEN_AFE_CHANNELS = 3,          /* filter bank channels = int8 outputs */
	ZGEN_AFE_ENERGY_START = 4,      /* first FFT bin whose energy is computed */
	ZGEN_AFE_ENERGY_END = 5,        /* one past the last one (<= FFT_LEN / 2 + 1) */
	ZGEN_AFE_SS_SMOOTHING = 6,      /* noise smoothing, even channels (scale 1 << SS_BITS) */
	ZGEN_AFE_SS_ALT_SMOOTHING = 7,  /* noise smoothing, odd channels (scale 1 << SS_BITS) */
	ZGEN_AFE_SS_MIN_REMAINING = 8,  /* minimum signal kept (scale 1 << SS_BITS) */
	ZGEN_AFE_SS_SMOOTHING_BITS = 9, /* extra fractional bits of the noise estimate */
	ZGEN_AFE_SS_BITS = 10,          /* spectral subtraction scaling bits */
	ZGEN_AFE_SS_CLAMPING = 11,      /* 1: the noise estimate is clamped to the signal */
	ZGEN_AFE_PCAN_SNR_SHIFT = 12,   /* PCAN: right shift of signal * gain */
	ZGEN_AFE_LOG_CORRECTION = 13,   /* log: input left shift */
	ZGEN_AFE_LOG_SCALE = 14,        /* log: output scale */
	ZGEN_AFE_OUT_DIV = 15,          /* code = (log * 256 + DIV / 2) / DIV - 128, clamped */
	ZGEN_AFE_ARG_COUNT = 16,
};

/* Constant tables: indices into tab[]; every table is const int16_t. */
enum zgen_afe_tab {
	ZGEN_AFE_TAB_WINDOW = 0,        /* [FRAME_LEN] Hann window */
	ZGEN_AFE_TAB_TWIDDLES = 1,      /* [3 * FFT_LEN / 2] (re, im) pairs: the FFT_LEN / 2
					 * twiddles of kissfft's complex FFT of FFT_LEN / 2
					 * points, then the FFT_LEN / 4 twiddles of its
					 * real-FFT split */
	ZGEN_AFE_TAB_FB_WEIGHTS = 2,    /* [n] filter bank weights */
	ZGEN_AFE_TAB_FB_UNWEIGHTS = 3,  /* [n] filter bank unweights */
	ZGEN_AFE_TAB_FB_FREQ_STARTS = 4,   /* [CHANNELS + 1] first FFT bin of each channel */
	ZGEN_AFE_TAB_FB_WEIGHT_STARTS = 5, /* [CHANNELS + 1] first weight of each channel */
	ZGEN_AFE_TAB_FB_WIDTHS = 6,     /* [CHANNELS + 1] bins of each channel */
	ZGEN_AFE_TAB_PCAN_LUT = 7,      /* [125] PCAN gain lookup table */
	ZGEN_AFE_TAB_COUNT = 8,
};

/* uint32 words of state kept between frames (the noise estimate). */
uint32_t zgen_afe_state_words(const int32_t *arg);

/* Bytes of scratch the caller provides to zgen_afe_frame(), 4-byte aligned. */
uint32_t zgen_afe_scratch_bytes(const int32_t *arg);

/* Clears the state (as TFLM's interpreter reset does). */
void zgen_afe_reset(const int32_t *arg, const void *const *tab, uint32_t *state);

/* One frame: arg[ZGEN_AFE_FRAME_LEN] samples in, arg[ZGEN_AFE_CHANNELS]
 * int8 codes out. */
void zgen_afe_frame(const int32_t *arg, const void *const *tab, uint32_t *state, void *scratch,
		    const int16_t *frame, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* ZGEN_ZGEN_AFE_H_ */
