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
/* Longest event line, including the terminating NUL. */
#define ZGEN_LINE_MAX 192

enum zgen_dtype {
	ZGEN_DTYPE_FLOAT32 = 0,
	ZGEN_DTYPE_INT8 = 1,
	ZGEN_DTYPE_UINT8 = 2,
};

enum zgen_feature_kind {
	/* x[r][c] = (x[r][c] - a[c]) / b[c] */
	ZGEN_FEATURE_NORMALIZE = 1,
	/* Reductions: the window's rows are split into `frames` equal frames and
	 * each frame becomes one row (one value per channel). */
	ZGEN_FEATURE_RMS = 2,
	ZGEN_FEATURE_MEAN = 3,
	ZGEN_FEATURE_STD = 4,
	ZGEN_FEATURE_PEAK = 5, /* max |x| */
	ZGEN_FEATURE_MIN = 6,
	ZGEN_FEATURE_MAX = 7,
};

struct zgen_feature {
	uint8_t kind;       /* enum zgen_feature_kind */
	uint16_t frames;    /* reductions: output rows (divides the input rows) */
	const float *a;     /* normalize: per-channel mean */
	const float *b;     /* normalize: per-channel std (never 0) */
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
};

struct zgen_config {
	uint32_t rate_hz;
	uint16_t channels;
	uint16_t window_length;
	uint16_t window_stride;
	uint8_t feature_count;
	const struct zgen_feature *features;
	struct zgen_tensor input;   /* = the feature chain's output, flattened */
	struct zgen_tensor output;
	uint8_t score;              /* enum zgen_score_kind */
	uint8_t score_decimals;     /* digits printed after the point (0..6) */
	bool threshold_above;       /* true: on when score > threshold; false: < */
	float threshold;
	uint16_t debounce;          /* consecutive windows needed to change state */
	const char *state_off;      /* e.g. "normal", or "none" for classifiers */
	const char *state_on;       /* e.g. "anomaly" (scores other than CLASS) */
	const char *const *labels;  /* CLASS: one name per model output */
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
	struct zgen_counters count;
};

/* Buffer sizes (in floats) the caller provides to zgen_init(). */
#define ZGEN_RING_LEN(length, channels) ((size_t)(length) * (size_t)(channels))
#define ZGEN_WORK_LEN(length, channels) ((size_t)(length) * (size_t)(channels))

/* Zephyr's struct sensor_value (integer and millionths) to float; the one
 * conversion used on both sides. */
float zgen_sensor_value_to_float(int32_t val1, int32_t val2);

/* Returns 0, or -EINVAL-like -1 when the configuration is inconsistent
 * (zgen validates the manifest first; this guards hand-edited tables). */
int zgen_init(struct zgen_pipeline *p, const struct zgen_config *cfg, float *ring, float *work);

/* Push one sample (cfg->channels values). Returns true when a window is
 * complete: call zgen_features(), run the model, then zgen_decide(). */
bool zgen_push(struct zgen_pipeline *p, const float *sample);

/* Run the feature chain over the current window and write the model input
 * (cfg->input.count elements of cfg->input.dtype) to `input`. `features`, if
 * not NULL, receives the float features before quantisation. */
void zgen_features(struct zgen_pipeline *p, void *input, float *features);

/* Post-process one inference: score, threshold, debounce. Writes the decision
 * line to `line` (ZGEN_LINE_MAX bytes) and returns its length. *changed is
 * set when the debounced state changed. */
size_t zgen_decide(struct zgen_pipeline *p, const void *input, const void *output, char *line,
		   bool *changed);

/* The score alone (used by zgen_decide; exposed for tests and plots). For
 * CLASS scores, *cls (if not NULL) receives the winning class. */
float zgen_score(const struct zgen_config *cfg, const void *input, const void *output, uint16_t *cls);

/* The name of a state (0 = state_off). */
const char *zgen_state_name(const struct zgen_config *cfg, uint16_t state);

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
