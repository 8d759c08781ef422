/* Post-processing: score, average over the last decisions, threshold,
 * debounce and suppression, one decision per window. */
#include "zgen_internal.h"

float zgen_tensor_get(const struct zgen_tensor *t, const void *data, uint32_t i)
{
	switch (t->dtype) {
	case ZGEN_DTYPE_INT8:
		return (float)((int32_t)((const int8_t *)data)[i] - t->zero_point) * t->scale;
	case ZGEN_DTYPE_UINT8:
		return (float)((int32_t)((const uint8_t *)data)[i] - t->zero_point) * t->scale;
	default:
		return ((const float *)data)[i];
	}
}

float zgen_score(const struct zgen_config *cfg, const void *input, const void *output, uint16_t *cls)
{
	if (cfg->score == ZGEN_SCORE_OUTPUT) {
		return zgen_tensor_get(&cfg->output, output, 0);
	}
	if (cfg->score == ZGEN_SCORE_CLASS) {
		uint16_t best = 0;
		float top = zgen_tensor_get(&cfg->output, output, 0);

		for (uint32_t i = 1; i < cfg->output.count; i++) {
			float v = zgen_tensor_get(&cfg->output, output, i);

			if (v > top) {
				top = v;
				best = (uint16_t)i;
			}
		}
		if (cls != NULL) {
			*cls = best;
		}
		return top;
	}
	/* Reconstruction error against what the model was given, in real units. */
	float acc = 0.0f;

	for (uint32_t i = 0; i < cfg->output.count; i++) {
		float d = zgen_tensor_get(&cfg->output, output, i) -
			  zgen_tensor_get(&cfg->input, input, i);
		float sq = d * d;

		acc += sq;
	}
	return acc / (float)cfg->output.count;
}

const char *zgen_state_name(const struct zgen_config *cfg, uint16_t state)
{
	if (state == 0U) {
		return cfg->state_off;
	}
	return cfg->score == ZGEN_SCORE_CLASS ? cfg->labels[state - 1U] : cfg->state_on;
}

/* The average of the last cfg->average scores (of every class, for
 * classifiers), summed oldest first; writes the class on top to *cls. */
static float averaged(struct zgen_pipeline *p, const void *input, const void *output, uint16_t *cls)
{
	const struct zgen_config *cfg = p->cfg;
	const uint32_t n = cfg->score == ZGEN_SCORE_CLASS ? cfg->output.count : 1U;
	float *slot = &p->history[p->history_head * n];
	float top = 0.0f;

	if (n == 1U) {
		slot[0] = zgen_score(cfg, input, output, NULL);
	} else {
		for (uint32_t i = 0; i < n; i++) {
			slot[i] = zgen_tensor_get(&cfg->output, output, i);
		}
	}
	p->history_head = p->history_head + 1U == cfg->average ? 0U : p->history_head + 1U;
	if (p->history_filled < cfg->average) {
		p->history_filled++;
	}
	*cls = 0;
	for (uint32_t i = 0; i < n; i++) {
		float acc = 0.0f;

		for (uint32_t k = 0; k < p->history_filled; k++) {
			/* oldest first: the ring's head once full, else slot 0 */
			uint32_t at = (p->history_filled == cfg->average ? p->history_head : 0U) + k;

			at = at >= cfg->average ? at - cfg->average : at;
			acc += p->history[at * n + i];
		}
		acc = acc / (float)p->history_filled;
		if (i == 0U || acc > top) {
			top = acc;
			*cls = (uint16_t)i;
		}
	}
	return top;
}

size_t zgen_decide(struct zgen_pipeline *p, const void *input, const void *output, char *line,
		   bool *changed)
{
	const struct zgen_config *cfg = p->cfg;
	uint16_t cls = 0;
	float score = cfg->average > 1U ? averaged(p, input, output, &cls)
					: zgen_score(cfg, input, output, &cls);
	bool on = cfg->threshold_above ? score > cfg->threshold : score < cfg->threshold;
	/* The state this window argues for: off, on, or its class. */
	uint16_t want = on ? (cfg->score == ZGEN_SCORE_CLASS ? (uint16_t)(cls + 1U) : 1U) : 0U;
	bool event = false;
	struct zgen_buf b;

	*changed = false;
	if (want == p->state) {
		p->streak = 0;
	} else {
		/* A streak counts consecutive windows arguing for the same new state. */
		p->streak = (want == p->candidate) ? (uint16_t)(p->streak + 1U) : 1U;
		p->candidate = want;
		if (p->streak >= cfg->debounce) {
			uint32_t now = zgen_now(p);
			uint32_t last = p->last_event[want];

			p->state = want;
			p->streak = 0;
			*changed = true;
			/* Suppression: no second event of a state (other than off) within
			 * cfg->suppress samples of its last one. */
			event = want == 0U || cfg->suppress == 0U || last == 0U ||
				now - (last - 1U) >= cfg->suppress;
			if (event) {
				p->last_event[want] = now + 1U;
			}
		}
	}

	zgen_buf_init(&b, line);
	zgen_buf_str(&b, "zgen: t=");
	zgen_buf_u32(&b, zgen_now(p));
	zgen_buf_str(&b, " win=");
	zgen_buf_u32(&b, p->count.windows);
	if (cfg->score == ZGEN_SCORE_CLASS) {
		zgen_buf_str(&b, " class=");
		zgen_buf_str(&b, cfg->labels[cls]);
	}
	zgen_buf_str(&b, " score=");
	zgen_buf_fixed(&b, score, cfg->score_decimals);
	zgen_buf_str(&b, " state=");
	zgen_buf_str(&b, zgen_state_name(cfg, p->state));
	if (event) {
		zgen_buf_str(&b, " event=");
		zgen_buf_str(&b, zgen_state_name(cfg, p->state));
	}
	p->count.windows++;
	return zgen_buf_end(&b);
}
