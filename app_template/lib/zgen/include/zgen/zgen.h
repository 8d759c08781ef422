/*
 * zgen runtime: windowing, features, model input quantisation, post-processing
 * and event lines. The same sources run in the firmware and, compiled on the
 * host, in `zgen simulate`, so both print the same lines for the same samples.
 *
 * Rules that keep host and target bit-identical:
 * - float32 only, every sum evaluated sequentially in a fixed order;
 * - no libm transcendental functions (only sqrtf, which IEEE 754 rounds exactly);
 * - compiled with -ffp-contract=off (no fused multiply-add) and, on x86, SSE math;
 * - event lines are formatted with integer arithmetic only (no printf %f).
 *
 * No heap: the caller owns every buffer (sizes are given by the macros below).
 */
#ifndef ZGEN_ZGEN_H_
#define ZGEN_ZGEN_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZGEN_MAX_CHANNELS 16
/* Classes a classifier may have. */
#define ZGEN_MAX_CLASSES 32
/* States a decision can be in: off, one per class (or on), unknown. */
#define ZGEN_MAX_STATES (ZGEN_MAX_CLASSES + 2)
/* Outputs (led, gpio, callback) one decision may drive. */
#define ZGEN_MAX_OUTPUTS 16
/* Classes top-k may print. */
#define ZGEN_MAX_TOP_K 5
/* Longest event line, including the terminating NUL. */
#define ZGEN_LINE_MAX 384

enum zgen_dtype {
	ZGEN_DTYPE_FLOAT32 = 0,
	ZGEN_DTYPE_INT8 = 1,
	ZGEN_DTYPE_UINT8 = 2,
};

/* Feature steps. Each maps a [rows][channels] float matrix to another, in
 * place; the Python description of each step (zgen/steps) documents its
 * parameters and computes its tables. */
enum zgen_feature_kind {
	/* x[r][c] = (x[r][c] - tab0[c]) / tab1[c]; with arg0 = 1 the tables
	 * hold one value per row and channel: tab0[r * channels + c]. */
	ZGEN_FEATURE_NORMALIZE = 1,
	/* Reductions: the rows are split into arg0 equal frames and each frame
	 * becomes one row (one value per channel). */
	ZGEN_FEATURE_RMS = 2,
	ZGEN_FEATURE_MEAN = 3,
	ZGEN_FEATURE_STD = 4,
	ZGEN_FEATURE_PEAK = 5, /* max |x| */
	ZGEN_FEATURE_MIN = 6,
	ZGEN_FEATURE_MAX = 7,
	/* Zero-crossing rate: sign changes between consecutive rows of a frame,
	 * divided by (rows per frame - 1). A reduction like the above. */
	ZGEN_FEATURE_ZCR = 8,
	/* x[r][c] = x[r][c] * tab0[c] + tab1[c] (arg0 as normalize) */
	ZGEN_FEATURE_SCALE = 9,
	/* x[r][c] clamped to [tab0[c], tab1[c]] (arg0 as normalize) */
	ZGEN_FEATURE_CLIP = 10,
	/* Vector magnitude over the channels: [rows][ch] -> [rows][1]. */
	ZGEN_FEATURE_MAGNITUDE = 11,
	/* Mean of each arg0 consecutive rows: [rows][ch] -> [rows / arg0][ch]. */
	ZGEN_FEATURE_DECIMATE = 12,
	/* First difference: [rows][ch] -> [rows - 1][ch], x[r + 1] - x[r]. */
	ZGEN_FEATURE_DIFF = 13,
	/* Windowed real FFT of each channel (zgen_spectral.c): [arg0][ch] ->
	 * [arg0 / 2 + 1][ch]; arg1: 0 magnitude, 1 power; tab0: window
	 * (arg0 floats), tab1: twiddles (cos, sin of 2 pi k / arg0, k < arg0 / 2). */
	ZGEN_FEATURE_FFT = 20,
	/* Sparse filter bank: [arg2][ch] -> [arg0][ch], band b sums
	 * tab2[tab0[b] + i] * x[tab1[b] + i] for i < (tab0[b + 1] - tab0[b]);
	 * arg1: 0 as is, 1 natural log of (sum + tab3[0]). */
	ZGEN_FEATURE_FILTERBANK = 21,
	/* Matrix: [arg1][ch] -> [arg0][ch], y[o] = sum_i tab0[o * arg1 + i] x[i]. */
	ZGEN_FEATURE_MATRIX = 22,
	/* TFLM micro_speech's audio front end (zgen_afe.c): one frame of int16
	 * samples [arg FRAME_LEN][1] -> int8 codes [channels][1], read as the
	 * model input's quantisation. Keeps state between frames. */
	ZGEN_FEATURE_AUDIO_FRONTEND = 30,
};

#define ZGEN_STEP_ARGS 16
#define ZGEN_STEP_TABS 8

struct zgen_feature {
	uint8_t kind;                       /* enum zgen_feature_kind */
	uint32_t state;                     /* offset of the step's state in the state words */
	int32_t arg[ZGEN_STEP_ARGS];        /* integer parameters, per kind */
	const void *tab[ZGEN_STEP_TABS];    /* constant tables, per kind */
};

/* A model tensor as the pipeline sees it: element type, quantisation, size. */
struct zgen_tensor {
	uint8_t dtype;      /* enum zgen_dtype */
	float scale;        /* quantised types only */
	int32_t zero_point; /* quantised types only */
	uint32_t count;     /* elements, batch included */
};

enum zgen_score_kind {
	/* Mean squared difference between the model's dequantised input and
	 * output (autoencoder reconstruction error). */
	ZGEN_SCORE_RECONSTRUCTION_MSE = 1,
	/* The model's output[0], dequantised (regressors, one-output models). */
	ZGEN_SCORE_OUTPUT = 2,
	/* Classifiers: the score is the highest dequantised output (the first
	 * one on ties) and the state names its class. */
	ZGEN_SCORE_CLASS = 3,
	/* Mean absolute difference between the model's dequantised input and
	 * output. */
	ZGEN_SCORE_RECONSTRUCTION_MAE = 4,
};

/* What an output does (zgen_outputs.c). */
enum zgen_output_kind {
	/* A pin (LED or GPIO) at level 1 while the state is the output's
	 * state, 0 otherwise. */
	ZGEN_OUTPUT_LEVEL = 1,
	/* A pin pulsed high for pulse_ms on every event of the output's state. */
	ZGEN_OUTPUT_PULSE = 2,
	/* The app's zgen_on_event() called on every event of the output's state. */
	ZGEN_OUTPUT_CALLBACK = 3,
};

/* The state an output follows: ZGEN_OUTPUT_ANY_ON is every state other
 * than off and unknown, ZGEN_OUTPUT_ANY every state; otherwise a state
 * index (0 = off). */
#define ZGEN_OUTPUT_ANY_ON (-1)
#define ZGEN_OUTPUT_ANY (-2)

struct zgen_output {
	uint8_t kind;        /* enum zgen_output_kind */
	int16_t state;       /* ZGEN_OUTPUT_ANY_ON, ZGEN_OUTPUT_ANY or a state index */
	uint32_t pulse_ms;   /* PULSE */
	const char *name;    /* printed in its lines: the alias, or "callback" */
};

/* One output action of a decision (zgen_output_next). */
struct zgen_action {
	uint8_t output;      /* index into cfg->outputs */
	uint8_t kind;        /* enum zgen_output_kind */
	uint8_t level;       /* LEVEL: the pin's new level */
};

struct zgen_config {
	uint32_t rate_hz;
	uint16_t channels;
	uint16_t window_length;
	uint16_t window_stride;
	/* Streams: the window above is one frame; each frame's features
	 * (frame_features values) join a stack of the last frame_count frames,
	 * and every frame_stride frames the stack is the model input. 0: the
	 * window's features are the model input. */
	uint16_t frame_count;
	uint16_t frame_stride;
	uint32_t frame_features;
	uint32_t scratch_len;       /* floats of scratch the feature steps need */
	uint32_t state_words;       /* words of state the feature steps keep */
	uint8_t feature_count;
	const struct zgen_feature *features;
	struct zgen_tensor input;   /* = the feature chain's output, flattened */
	struct zgen_tensor output;
	uint8_t score;              /* enum zgen_score_kind */
	uint8_t score_decimals;     /* digits printed after the point (0..6) */
	uint16_t score_index;       /* OUTPUT: the output element read */
	uint16_t classes;           /* CLASS: outputs 0 .. classes - 1 are the class scores */
	bool threshold_above;       /* true: on when score > threshold; false: < */
	float threshold;            /* the score that turns a state on */
	bool hysteresis;            /* a state on holds while its own score passes its hold
				     * threshold (threshold_off, class_off) */
	float threshold_off;
	const float *class_on;      /* CLASS: per-class thresholds, or NULL (threshold) */
	const float *class_off;     /* CLASS: per-class hold thresholds, or NULL (threshold_off) */
	bool has_confidence;        /* CLASS: below confidence the state is unknown */
	float confidence;
	uint8_t top_k;              /* CLASS: the k best classes printed (0: none) */
	int16_t gate_index;         /* an output element that gates the decision (-1: none) */
	bool gate_above;            /* the gate passes when that output > gate_threshold (or <) */
	float gate_threshold;       /* failing the gate, the state is unknown */
	uint16_t average;           /* scores averaged over the last N decisions (1: none) */
	uint16_t debounce;          /* consecutive windows needed to change state */
	uint32_t suppress;          /* samples after an event in which the same state raises none */
	uint32_t rate_limit;        /* samples after any event in which no event is raised */
	const char *state_off;      /* e.g. "normal", or "none" for classifiers */
	const char *state_on;       /* e.g. "anomaly" (scores other than CLASS) */
	const char *state_unknown;  /* gate failed or confidence too low */
	const char *const *labels;  /* CLASS: one name per class */
	uint8_t output_count;
	const struct zgen_output *outputs;
};

struct zgen_counters {
	uint32_t samples;     /* samples pushed into the window */
	uint32_t windows;     /* decisions taken */
	uint32_t read_errors; /* sensor reads that failed (sample skipped) */
	uint32_t overruns;    /* sample periods missed because processing was late */
};

struct zgen_pipeline {
	const struct zgen_config *cfg;
	float *ring;          /* window_length * channels, oldest row at `head` when full */
	float *work;          /* window_length * channels */
	uint32_t head;        /* row written next */
	uint32_t filled;      /* rows held, up to window_length */
	uint32_t until_ready; /* samples until the next window is complete */
	uint16_t state;       /* debounced decision: 0 = state_off, else state_on or class + 1 */
	uint16_t candidate;   /* the state the current streak argues for */
	uint16_t streak;      /* consecutive windows arguing for `candidate` */
	float *scratch;       /* cfg->scratch_len */
	uint32_t *state_words;/* cfg->state_words */
	float *stack;         /* streams: frame_count * frame_features, a ring */
	uint32_t stack_head;  /* frame written next */
	uint32_t frames;      /* frames computed */
	float *history;       /* average > 1: average * output.count scores, a ring */
	uint32_t history_head;
	uint32_t history_filled;
	uint32_t last_event[ZGEN_MAX_STATES]; /* sample index + 1 of each state's last event */
	uint32_t last_any;    /* sample index + 1 of the last event of any state */
	float score;          /* the last decision's score (averaged, as printed) */
	bool changed;         /* the last decision changed the state */
	bool event;           /* the last decision raised an event */
	uint32_t levels;      /* LEVEL outputs' levels, a bit per output */
	struct zgen_counters count;
};

/* Buffers the caller owns (static in the firmware); sizes below. */
struct zgen_buffers {
	float *ring;       /* ZGEN_RING_LEN(window_length, channels) */
	float *work;       /* ZGEN_WORK_LEN(window_length, channels) */
	float *scratch;    /* cfg->scratch_len (NULL when 0) */
	uint32_t *state;   /* cfg->state_words (NULL when 0) */
	float *stack;      /* ZGEN_STACK_LEN(frame_count, frame_features) (NULL when no frames) */
	float *history;    /* ZGEN_HISTORY_LEN(average, outputs) (NULL when average <= 1) */
};

/* Buffer sizes (in floats) the caller provides to zgen_init(). */
#define ZGEN_RING_LEN(length, channels) ((size_t)(length) * (size_t)(channels))
#define ZGEN_WORK_LEN(length, channels) ((size_t)(length) * (size_t)(channels))
#define ZGEN_STACK_LEN(frames, features) ((size_t)(frames) * (size_t)(features))
#define ZGEN_HISTORY_LEN(average, outputs) ((size_t)(average) * (size_t)(outputs))

/* Zephyr's struct sensor_value (integer and millionths) to float; the one
 * conversion used on both sides. */
float zgen_sensor_value_to_float(int32_t val1, int32_t val2);

/* Returns 0, or -EINVAL-like -1 when the configuration is inconsistent
 * (zgen validates the manifest first; this guards hand-edited tables). */
int zgen_init(struct zgen_pipeline *p, const struct zgen_config *cfg, const struct zgen_buffers *buf);

/* Push one sample (cfg->channels values). Returns true when a window (a
 * frame, for streams) is complete: call zgen_features(). */
bool zgen_push(struct zgen_pipeline *p, const float *sample);

/* Run the feature chain over the current window. Returns true when a
 * decision is due (always, without frames; every frame_stride frames once
 * frame_count frames exist, for streams): then the model input
 * (cfg->input.count elements of cfg->input.dtype) is in `input`; run the
 * model, then zgen_decide(). `features`, if not NULL, receives the float
 * features before quantisation (cfg->input.count values). */
bool zgen_features(struct zgen_pipeline *p, void *input, float *features);

/* One frame's (or window's) feature chain alone: `x` holds the window
 * (window_length x channels floats, oldest row first) and receives the
 * chain's output; returns the number of values. Used by zgen_features(). */
uint32_t zgen_feature_chain(struct zgen_pipeline *p, float *x);

/* Post-process one inference (zgen_decide.c, formulas in the README): score,
 * gate, average, confidence, threshold with hysteresis, debounce, suppress,
 * rate limit. Writes the decision line to `line` (ZGEN_LINE_MAX bytes) and
 * returns its length. *changed is set when the debounced state changed. */
size_t zgen_decide(struct zgen_pipeline *p, const void *input, const void *output, char *line,
		   bool *changed);

/* The score alone (used by zgen_decide; exposed for tests and plots). For
 * CLASS scores, *cls (if not NULL) receives the winning class. */
float zgen_score(const struct zgen_config *cfg, const void *input, const void *output, uint16_t *cls);

/* The name of a state (0 = state_off). */
const char *zgen_state_name(const struct zgen_config *cfg, uint16_t state);

/* The unknown state's index: after off and the on state (or each class). */
uint16_t zgen_state_unknown(const struct zgen_config *cfg);

/* The output actions the last zgen_decide() caused, one per call (zgen_outputs.c):
 * start with *next = 0; returns false when there is none left. LEVEL outputs act
 * when their level changes, PULSE and CALLBACK outputs on each event of their state. */
bool zgen_output_next(struct zgen_pipeline *p, uint32_t *next, struct zgen_action *a);

/* A LEVEL output's level now (before any decision: its level in the off state). */
uint8_t zgen_output_level(const struct zgen_pipeline *p, uint32_t output);

/* The line of an action: `level` is the pin's level as read back (or as set). */
size_t zgen_line_action(const struct zgen_pipeline *p, char *line, const struct zgen_action *a,
			uint8_t level);

/* Sample index of the newest sample pushed (the decision timestamp). */
uint32_t zgen_now(const struct zgen_pipeline *p);

/* Event lines (see DESIGN.md "Event lines"), written to `line`
 * (ZGEN_LINE_MAX bytes); each returns the length. */
size_t zgen_line_start(char *line, const char *version, const char *app, const char *model_hash,
		       const struct zgen_config *cfg, uint32_t arena_used, uint32_t arena_size);
size_t zgen_line_read_error(struct zgen_pipeline *p, char *line, int err);
size_t zgen_line_overrun(struct zgen_pipeline *p, char *line, uint32_t missed);
size_t zgen_line_end(const struct zgen_pipeline *p, char *line);

#ifdef __cplusplus
}
#endif

#endif /* ZGEN_ZGEN_H_ */
