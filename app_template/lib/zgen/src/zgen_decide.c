/* Post-processing, one decision per window: score, gate, average over the last
 * decisions, confidence, threshold with hysteresis (per class), debounce,
 * suppression and rate limit; the README gives each step's formula. */
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
		return zgen_tensor_get(&cfg->output, output, cfg->score_index);
	}
	if (cfg->score == ZGEN_SCORE_CLASS) {
		uint16_t best = 0;
		float top = zgen_tensor_get(&cfg->output, output, 0);

		for (uint32_t i = 1; i < cfg->classes; i++) {
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
		float e = cfg->score == ZGEN_SCORE_RECONSTRUCTION_MAE ? (d < 0.0f ? -d : d) : d * d;

		acc += e;
	}
	return acc / (float)cfg->output.count;
}

uint16_t zgen_state_unknown(const struct zgen_config *cfg)
{
	return (uint16_t)((cfg->score == ZGEN_SCORE_CLASS ? cfg->classes : 1U) + 1U);
}

const char *zgen_state_name(const struct zgen_config *cfg, uint16_t state)
{
	if (state == 0U) {
		return cfg->state_off;
	}
	if (state == zgen_state_unknown(cfg)) {
		return cfg->state_unknown;
	}
	return cfg->score == ZGEN_SCORE_CLASS ? cfg->labels[state - 1U] : cfg->state_on;
}

/* This decision's scores into v (each class's, for classifiers; else one), averaged over
 * the last cfg->average decisions (summed oldest first); returns how many. */
static uint32_t scores(struct zgen_pipeline *p, const void *input, const void *output, float *v)
{
	const struct zgen_config *cfg = p->cfg;
	const uint32_t n = cfg->score == ZGEN_SCORE_CLASS ? cfg->classes : 1U;

	if (n == 1U) {
		v[0] = zgen_score(cfg, input, output, NULL);
	} else {
		for (uint32_t i = 0; i < n; i++) {
			v[i] = zgen_tensor_get(&cfg->output, output, i);
		}
	}
	if (cfg->average <= 1U) {
		return n;
	}
	float *slot = &p->history[p->history_head * n];

	for (uint32_t i = 0; i < n; i++) {
		slot[i] = v[i];
	}
	p->history_head = p->history_head + 1U == cfg->average ? 0U : p->history_head + 1U;
	if (p->history_filled < cfg->average) {
		p->history_filled++;
	}
	for (uint32_t i = 0; i < n; i++) {
		float acc = 0.0f;

		for (uint32_t k = 0; k < p->history_filled; k++) {
			/* oldest first: the ring's head once full, else slot 0 */
			uint32_t at = (p->history_filled == cfg->average ? p->history_head : 0U) + k;

			at = at >= cfg->average ? at - cfg->average : at;
			acc += p->history[at * n + i];
		}
		v[i] = acc / (float)p->history_filled;
	}
	return n;
}

static bool passes(bool above, float x, float threshold)
{
	return above ? x > threshold : x < threshold;
}

/* The state this window argues for, from its scores v (n of them, the top one at cls). */
static uint16_t wanted(const struct zgen_pipeline *p, const void *output, const float *v, uint16_t cls)
{
	const struct zgen_config *cfg = p->cfg;
	const bool classes = cfg->score == ZGEN_SCORE_CLASS;
	const uint16_t unknown = zgen_state_unknown(cfg);

	if (cfg->gate_index >= 0 &&
	    !passes(cfg->gate_above, zgen_tensor_get(&cfg->output, output, (uint32_t)cfg->gate_index),
		    cfg->gate_threshold)) {
		return unknown;
	}
	if (classes && cfg->has_confidence && v[cls] < cfg->confidence) {
		return unknown;
	}
	if (passes(cfg->threshold_above, v[cls], cfg->class_on != NULL ? cfg->class_on[cls] : cfg->threshold)) {
		return classes ? (uint16_t)(cls + 1U) : 1U;
	}
	/* Hysteresis: the state held keeps while its own score passes its hold threshold. */
	if (cfg->hysteresis && p->state != 0U && p->state != unknown) {
		uint16_t held = classes ? (uint16_t)(p->state - 1U) : 0U;
		float off = cfg->class_off != NULL ? cfg->class_off[held] : cfg->threshold_off;

		if (passes(cfg->threshold_above, v[held], off)) {
			return p->state;
		}
	}
	return 0U;
}

/* ` top=a:0.9000,b:0.0500`: the k best classes, best first (the first on ties). */
static void top_k(struct zgen_buf *b, const struct zgen_config *cfg, const float *v)
{
	uint32_t taken = 0;

	zgen_buf_str(b, " top=");
	for (uint32_t k = 0; k < cfg->top_k; k++) {
		uint32_t best = 0;
		bool found = false;

		for (uint32_t i = 0; i < cfg->classes; i++) {
			if ((taken & (1UL << i)) == 0U && (!found || v[i] > v[best])) {
				best = i;
				found = true;
			}
		}
		taken |= 1UL << best;
		if (k > 0U) {
			zgen_buf_str(b, ",");
		}
		zgen_buf_str(b, cfg->labels[best]);
		zgen_buf_str(b, ":");
		zgen_buf_fixed(b, v[best], cfg->score_decimals);
	}
}

size_t zgen_decide(struct zgen_pipeline *p, const void *input, const void *output, char *line,
		   bool *changed)
{
	const struct zgen_config *cfg = p->cfg;
	float v[ZGEN_MAX_CLASSES] = {0.0f};
	const uint32_t n = scores(p, input, output, v);
	uint16_t cls = 0;

	for (uint32_t i = 1; i < n; i++) {
		if (v[i] > v[cls]) {
			cls = (uint16_t)i;
		}
	}
	const float score = v[cls];
	const uint16_t want = wanted(p, output, v, cls);
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
			 * cfg->suppress samples of its last one; rate limit: none within
			 * cfg->rate_limit samples of the last event of any state. */
			event = want == 0U || cfg->suppress == 0U || last == 0U ||
				now - (last - 1U) >= cfg->suppress;
			if (event && cfg->rate_limit != 0U && p->last_any != 0U &&
			    now - (p->last_any - 1U) < cfg->rate_limit) {
				event = false;
			}
			if (event) {
				p->last_event[want] = now + 1U;
				p->last_any = now + 1U;
			}
		}
	}
	p->score = score;
	p->changed = *changed;
	p->event = event;

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
	if (cfg->top_k > 0U) {
		top_k(&b, cfg, v);
	}
	if (cfg->gate_index >= 0) {
		zgen_buf_str(&b, " gate=");
		zgen_buf_fixed(&b, zgen_tensor_get(&cfg->output, output, (uint32_t)cfg->gate_index),
			       cfg->score_decimals);
	}
	zgen_buf_str(&b, " state=");
	zgen_buf_str(&b, zgen_state_name(cfg, p->state));
	if (event) {
		zgen_buf_str(&b, " event=");
		zgen_buf_str(&b, zgen_state_name(cfg, p->state));
	}
	p->count.windows++;
	return zgen_buf_end(&b);
}
