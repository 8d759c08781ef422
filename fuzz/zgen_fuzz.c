/*
 * libFuzzer harness over the zgen C runtime's entry points, with one generated app's pipeline
 * (its src/pipeline.c: the configuration, feature steps and tables zgen wrote for a manifest).
 *
 * Each input is a little program: a byte chooses what happens next, the following bytes are its
 * argument. Samples come as raw float bits (NaN, infinities, denormals, huge values) or as 16-bit
 * PCM (what a microphone gives); a decision due feeds model output bytes from the input (any
 * value a model could produce); read errors and overruns print their lines. Every line must fit
 * ZGEN_LINE_MAX and be NUL-terminated. AddressSanitizer and UndefinedBehaviorSanitizer catch the
 * rest. Built and run by fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

static float ring[ZGEN_RING_LEN(ZGEN_WINDOW_LENGTH, ZGEN_CHANNELS)];
static float work[ZGEN_WORK_LEN(ZGEN_WINDOW_LENGTH, ZGEN_CHANNELS)];
static float scratch[ZGEN_SCRATCH_LEN];
static uint32_t step_state[ZGEN_STATE_WORDS];
static float stack[ZGEN_STACK_FLOATS];
static float history[ZGEN_HISTORY_FLOATS];
static uint8_t model_input[ZGEN_INPUT_BYTES];
static uint8_t model_output[ZGEN_OUTPUT_BYTES];
static float features[ZGEN_INPUT_BYTES]; /* at least one float per input byte */
static char line[ZGEN_LINE_MAX];

static void check_line(size_t n)
{
	if (n >= ZGEN_LINE_MAX || line[n] != '\0' || strlen(line) != n) {
		abort();
	}
}

struct reader {
	const uint8_t *p;
	size_t left;
};

static size_t take(struct reader *r, void *out, size_t n)
{
	size_t k = n < r->left ? n : r->left;

	memset(out, 0, n);
	memcpy(out, r->p, k);
	r->p += k;
	r->left -= k;
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct zgen_pipeline pipe;
	const struct zgen_buffers buffers = {ring, work, scratch, step_state, stack, history};
	struct reader r = {data, size};
	size_t n;

	if (zgen_init(&pipe, &zgen_cfg, &buffers) != 0) {
		abort(); /* zgen generated this configuration: it must be valid */
	}
	n = zgen_line_start(line, ZGEN_VERSION, ZGEN_APP, ZGEN_MODEL_HASH, &zgen_cfg, 1000U, 2000U);
	check_line(n);
	while (r.left > 0) {
		uint8_t op;
		float sample[ZGEN_CHANNELS];
		int repeat = 1;

		take(&r, &op, 1);
		switch (op & 7U) {
		case 0: /* one sample, raw float bits */
			take(&r, sample, sizeof(sample));
			break;
		case 1: /* a run of PCM samples: one 16-bit value per channel, repeated */
		case 2: {
			int16_t pcm[ZGEN_CHANNELS];

			take(&r, pcm, sizeof(pcm));
			for (int c = 0; c < ZGEN_CHANNELS; c++) {
				sample[c] = (float)pcm[c];
			}
			repeat = 1 + (op >> 3) * 16;
			break;
		}
		case 3: { /* a failed read */
			int32_t err;

			take(&r, &err, sizeof(err));
			check_line(zgen_line_read_error(&pipe, line, err));
			continue;
		}
		case 4: { /* missed sample periods */
			uint32_t missed;

			take(&r, &missed, sizeof(missed));
			check_line(zgen_line_overrun(&pipe, line, missed));
			continue;
		}
		default: /* a sample in a sensor's usual range: value / 256 */
			for (int c = 0; c < ZGEN_CHANNELS; c++) {
				int16_t v;

				take(&r, &v, sizeof(v));
				sample[c] = (float)v / 256.0f;
			}
			break;
		}
		for (int i = 0; i < repeat; i++) {
			if (!zgen_push(&pipe, sample)) {
				continue;
			}
			if (!zgen_features(&pipe, model_input, (op & 0x80U) ? features : NULL)) {
				continue;
			}
			bool changed;

			take(&r, model_output, sizeof(model_output));
			check_line(zgen_decide(&pipe, model_input, model_output, line, &changed));

			struct zgen_action a;
			uint32_t next = 0;

			while (zgen_output_next(&pipe, &next, &a)) {
				uint8_t level;

				take(&r, &level, 1); /* as a pin reads back: anything */
				check_line(zgen_line_action(&pipe, line, &a, level));
				if (zgen_output_level(&pipe, a.output) > 1U) {
					abort();
				}
			}
		}
	}
	check_line(zgen_line_end(&pipe, line));
	return 0;
}
