/*
 * zgen._runtime: the firmware's C runtime (app_template/lib/zgen), compiled
 * for the host and bound to Python so that `zgen simulate` runs the very same
 * arithmetic. This file only converts between Python objects and the runtime's
 * structs; it holds no pipeline logic of its own.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#include <zgen/zgen.h>

typedef struct {
	PyObject_HEAD
	struct zgen_config cfg;
	struct zgen_pipeline pipe;
	struct zgen_feature *features;
	void **tables;   /* every step's tables, owned */
	Py_ssize_t n_tables;
	float *ring;
	float *work;
	float *scratch;
	uint32_t *state;
	float *stack;
	float *history;
	float *feat;     /* last float features, cfg.input.count */
	uint8_t *input;  /* last model input, cfg.input.count elements */
	char *state_off;
	char *state_on;
	char *state_unknown;
	char **labels;   /* CLASS scores: one per class */
	Py_ssize_t n_labels;
	float *class_on; /* per-class thresholds, or NULL */
	float *class_off;
	struct zgen_output *outputs;
	char **output_names;
	Py_ssize_t n_outputs;
} PipelineObject;

static size_t dtype_size(uint8_t dtype)
{
	return dtype == ZGEN_DTYPE_FLOAT32 ? 4U : 1U;
}

static int get_long(PyObject *d, const char *key, long lo, long hi, long *out)
{
	PyObject *v = PyDict_GetItemString(d, key);

	if (v == NULL) {
		PyErr_Format(PyExc_KeyError, "config is missing '%s'", key);
		return -1;
	}
	*out = PyLong_AsLong(v);
	if (*out == -1 && PyErr_Occurred()) {
		return -1;
	}
	if (*out < lo || *out > hi) {
		PyErr_Format(PyExc_ValueError, "config '%s'=%ld is outside [%ld, %ld]", key, *out, lo,
			     hi);
		return -1;
	}
	return 0;
}

/* An optional key: `dflt` when absent. */
static int get_long_or(PyObject *d, const char *key, long lo, long hi, long dflt, long *out)
{
	if (PyDict_GetItemString(d, key) == NULL) {
		*out = dflt;
		return 0;
	}
	return get_long(d, key, lo, hi, out);
}

static int get_float(PyObject *d, const char *key, float *out)
{
	PyObject *v = PyDict_GetItemString(d, key);

	if (v == NULL) {
		PyErr_Format(PyExc_KeyError, "config is missing '%s'", key);
		return -1;
	}
	*out = (float)PyFloat_AsDouble(v);
	return PyErr_Occurred() ? -1 : 0;
}

static char *get_str(PyObject *d, const char *key)
{
	PyObject *v = PyDict_GetItemString(d, key);
	const char *s;
	char *copy;

	if (v == NULL) {
		PyErr_Format(PyExc_KeyError, "config is missing '%s'", key);
		return NULL;
	}
	s = PyUnicode_AsUTF8(v);
	if (s == NULL) {
		return NULL;
	}
	copy = PyMem_Malloc(strlen(s) + 1);
	if (copy == NULL) {
		PyErr_NoMemory();
		return NULL;
	}
	strcpy(copy, s);
	return copy;
}

static int get_tensor(PyObject *d, const char *key, struct zgen_tensor *t)
{
	PyObject *td = PyDict_GetItemString(d, key);
	long v;

	if (td == NULL || !PyDict_Check(td)) {
		PyErr_Format(PyExc_KeyError, "config '%s' must be a dict", key);
		return -1;
	}
	if (get_long(td, "dtype", 0, 2, &v) < 0) {
		return -1;
	}
	t->dtype = (uint8_t)v;
	if (get_float(td, "scale", &t->scale) < 0 ||
	    get_long(td, "zero_point", -255, 255, &v) < 0) {
		return -1;
	}
	t->zero_point = (int32_t)v;
	if (get_long(td, "count", 1, 1L << 24, &v) < 0) {
		return -1;
	}
	t->count = (uint32_t)v;
	return 0;
}

/* features: a list of {"kind": int, "args": [int] (at most ZGEN_STEP_ARGS),
 * "tables": [buffer] (at most ZGEN_STEP_TABS, each copied), "state": int}. */
static int load_features(PipelineObject *self, PyObject *d)
{
	PyObject *list = PyDict_GetItemString(d, "features");
	Py_ssize_t n;

	if (list == NULL || !PyList_Check(list) || PyList_GET_SIZE(list) > 255) {
		PyErr_SetString(PyExc_ValueError, "config 'features' must be a list of dicts");
		return -1;
	}
	n = PyList_GET_SIZE(list);
	self->features = PyMem_Calloc((size_t)n + 1U, sizeof(struct zgen_feature));
	self->tables = PyMem_Calloc(((size_t)n + 1U) * ZGEN_STEP_TABS, sizeof(void *));
	if (self->features == NULL || self->tables == NULL) {
		PyErr_NoMemory();
		return -1;
	}
	self->n_tables = (n + 1) * ZGEN_STEP_TABS;
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *fd = PyList_GET_ITEM(list, i);
		struct zgen_feature *f = &self->features[i];
		PyObject *args, *tabs;
		long v;

		if (!PyDict_Check(fd) || get_long(fd, "kind", 1, 255, &v) < 0) {
			if (!PyErr_Occurred()) {
				PyErr_SetString(PyExc_ValueError, "each feature must be a dict");
			}
			return -1;
		}
		f->kind = (uint8_t)v;
		if (get_long(fd, "state", 0, 1L << 24, &v) < 0) {
			return -1;
		}
		f->state = (uint32_t)v;
		args = PyDict_GetItemString(fd, "args");
		tabs = PyDict_GetItemString(fd, "tables");
		if (args == NULL || !PyList_Check(args) || PyList_GET_SIZE(args) > ZGEN_STEP_ARGS ||
		    tabs == NULL || !PyList_Check(tabs) || PyList_GET_SIZE(tabs) > ZGEN_STEP_TABS) {
			PyErr_SetString(PyExc_ValueError, "a feature needs 'args' and 'tables' lists");
			return -1;
		}
		for (Py_ssize_t k = 0; k < PyList_GET_SIZE(args); k++) {
			long a = PyLong_AsLong(PyList_GET_ITEM(args, k));

			if (a == -1 && PyErr_Occurred()) {
				return -1;
			}
			f->arg[k] = (int32_t)a;
		}
		for (Py_ssize_t k = 0; k < PyList_GET_SIZE(tabs); k++) {
			Py_buffer b;
			void *copy;

			if (PyObject_GetBuffer(PyList_GET_ITEM(tabs, k), &b, PyBUF_C_CONTIGUOUS) < 0) {
				return -1;
			}
			/* 8-byte aligned, never empty */
			copy = PyMem_Calloc((size_t)b.len / 8U + 1U, 8U);
			if (copy == NULL) {
				PyBuffer_Release(&b);
				PyErr_NoMemory();
				return -1;
			}
			memcpy(copy, b.buf, (size_t)b.len);
			PyBuffer_Release(&b);
			self->tables[i * ZGEN_STEP_TABS + k] = copy;
			f->tab[k] = copy;
		}
	}
	self->cfg.features = self->features;
	self->cfg.feature_count = (uint8_t)n;
	return 0;
}

/* A list of str, each copied (NUL-terminated); *count set. */
static char **load_strings(PyObject *list, Py_ssize_t *count)
{
	char **out;

	*count = PyList_GET_SIZE(list);
	out = PyMem_Calloc((size_t)*count + 1U, sizeof(char *));
	if (out == NULL) {
		PyErr_NoMemory();
		return NULL;
	}
	for (Py_ssize_t i = 0; i < *count; i++) {
		const char *s = PyUnicode_AsUTF8(PyList_GET_ITEM(list, i));

		out[i] = s == NULL ? NULL : PyMem_Malloc(strlen(s) + 1);
		if (out[i] == NULL) {
			if (!PyErr_Occurred()) {
				PyErr_NoMemory();
			}
			return out;
		}
		strcpy(out[i], s);
	}
	return out;
}

static void free_strings(char **list, Py_ssize_t count)
{
	if (list == NULL) {
		return;
	}
	for (Py_ssize_t i = 0; i < count; i++) {
		PyMem_Free(list[i]);
	}
	PyMem_Free(list);
}

static int load_labels(PipelineObject *self, PyObject *d)
{
	PyObject *list = PyDict_GetItemString(d, "labels");

	if (list == NULL || !PyList_Check(list) || PyList_GET_SIZE(list) < 2 ||
	    PyList_GET_SIZE(list) > (Py_ssize_t)self->cfg.output.count) {
		PyErr_SetString(PyExc_ValueError, "config 'labels' must list one name per class");
		return -1;
	}
	self->labels = load_strings(list, &self->n_labels);
	if (PyErr_Occurred()) {
		return -1;
	}
	self->cfg.labels = (const char *const *)self->labels;
	self->cfg.classes = (uint16_t)self->n_labels;
	return 0;
}

/* An optional list of one float per class (None or absent: NULL). */
static int load_class_floats(PipelineObject *self, PyObject *d, const char *key, float **out)
{
	PyObject *list = PyDict_GetItemString(d, key);

	*out = NULL;
	if (list == NULL || list == Py_None) {
		return 0;
	}
	if (!PyList_Check(list) || PyList_GET_SIZE(list) != self->n_labels) {
		PyErr_Format(PyExc_ValueError, "config '%s' must list one float per class", key);
		return -1;
	}
	*out = PyMem_Calloc((size_t)self->n_labels, sizeof(float));
	if (*out == NULL) {
		PyErr_NoMemory();
		return -1;
	}
	for (Py_ssize_t i = 0; i < self->n_labels; i++) {
		(*out)[i] = (float)PyFloat_AsDouble(PyList_GET_ITEM(list, i));
		if (PyErr_Occurred()) {
			return -1;
		}
	}
	return 0;
}

/* outputs: a list of {"kind": int, "state": int, "pulse_ms": int, "name": str}. */
static int load_outputs(PipelineObject *self, PyObject *d)
{
	PyObject *list = PyDict_GetItemString(d, "outputs");
	PyObject *names;
	Py_ssize_t n;

	if (list == NULL) {
		return 0;
	}
	if (!PyList_Check(list) || PyList_GET_SIZE(list) > ZGEN_MAX_OUTPUTS) {
		PyErr_SetString(PyExc_ValueError, "config 'outputs' must be a list of dicts");
		return -1;
	}
	n = PyList_GET_SIZE(list);
	self->outputs = PyMem_Calloc((size_t)n + 1U, sizeof(struct zgen_output));
	names = PyList_New(n);
	if (self->outputs == NULL || names == NULL) {
		Py_XDECREF(names);
		PyErr_NoMemory();
		return -1;
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *od = PyList_GET_ITEM(list, i);
		PyObject *name;
		long v;

		if (!PyDict_Check(od) || get_long(od, "kind", 1, 3, &v) < 0) {
			if (!PyErr_Occurred()) {
				PyErr_SetString(PyExc_ValueError, "each output must be a dict");
			}
			Py_DECREF(names);
			return -1;
		}
		self->outputs[i].kind = (uint8_t)v;
		if (get_long(od, "state", -2, ZGEN_MAX_STATES - 1, &v) < 0) {
			Py_DECREF(names);
			return -1;
		}
		self->outputs[i].state = (int16_t)v;
		if (get_long_or(od, "pulse_ms", 0, 1L << 30, 0, &v) < 0) {
			Py_DECREF(names);
			return -1;
		}
		self->outputs[i].pulse_ms = (uint32_t)v;
		name = PyDict_GetItemString(od, "name");
		if (name == NULL || !PyUnicode_Check(name)) {
			PyErr_SetString(PyExc_ValueError, "each output needs a 'name'");
			Py_DECREF(names);
			return -1;
		}
		Py_INCREF(name);
		PyList_SET_ITEM(names, i, name);
	}
	self->output_names = load_strings(names, &self->n_outputs);
	Py_DECREF(names);
	if (PyErr_Occurred()) {
		return -1;
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		self->outputs[i].name = self->output_names[i];
	}
	self->cfg.outputs = self->outputs;
	self->cfg.output_count = (uint8_t)n;
	return 0;
}

static int Pipeline_init(PipelineObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"config", NULL};
	PyObject *d;
	long v;
	size_t cells;
	struct zgen_config *c = &self->cfg;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!", kwlist, &PyDict_Type, &d)) {
		return -1;
	}
	if (self->ring != NULL) {
		PyErr_SetString(PyExc_RuntimeError, "Pipeline is already initialised");
		return -1;
	}
	memset(c, 0, sizeof(*c));
	if (get_long(d, "rate_hz", 1, 1000000, &v) < 0) {
		return -1;
	}
	c->rate_hz = (uint32_t)v;
	if (get_long(d, "channels", 1, ZGEN_MAX_CHANNELS, &v) < 0) {
		return -1;
	}
	c->channels = (uint16_t)v;
	if (get_long(d, "window_length", 1, 65535, &v) < 0) {
		return -1;
	}
	c->window_length = (uint16_t)v;
	if (get_long(d, "window_stride", 1, 65535, &v) < 0) {
		return -1;
	}
	c->window_stride = (uint16_t)v;
	if (get_long_or(d, "frame_count", 0, 65535, 0, &v) < 0) {
		return -1;
	}
	c->frame_count = (uint16_t)v;
	if (get_long_or(d, "frame_stride", 0, 65535, 0, &v) < 0) {
		return -1;
	}
	c->frame_stride = (uint16_t)v;
	if (get_long_or(d, "frame_features", 0, 1L << 20, 0, &v) < 0) {
		return -1;
	}
	c->frame_features = (uint32_t)v;
	if (get_long_or(d, "scratch_len", 0, 1L << 24, 0, &v) < 0) {
		return -1;
	}
	c->scratch_len = (uint32_t)v;
	if (get_long_or(d, "state_words", 0, 1L << 24, 0, &v) < 0) {
		return -1;
	}
	c->state_words = (uint32_t)v;
	if (load_features(self, d) < 0 || get_tensor(d, "input", &c->input) < 0 ||
	    get_tensor(d, "output", &c->output) < 0) {
		return -1;
	}
	if (get_long(d, "score", 1, 4, &v) < 0) {
		return -1;
	}
	c->score = (uint8_t)v;
	if (get_long(d, "score_decimals", 0, 6, &v) < 0) {
		return -1;
	}
	c->score_decimals = (uint8_t)v;
	if (get_long(d, "threshold_above", 0, 1, &v) < 0) {
		return -1;
	}
	c->threshold_above = v != 0;
	if (get_float(d, "threshold", &c->threshold) < 0 ||
	    get_long(d, "debounce", 1, 65535, &v) < 0) {
		return -1;
	}
	c->debounce = (uint16_t)v;
	c->threshold_off = c->threshold;
	if (PyDict_GetItemString(d, "threshold_off") != NULL) {
		c->hysteresis = true;
		if (get_float(d, "threshold_off", &c->threshold_off) < 0) {
			return -1;
		}
	}
	if (get_long_or(d, "score_index", 0, 1L << 24, 0, &v) < 0) {
		return -1;
	}
	c->score_index = (uint16_t)v;
	if (get_long_or(d, "top_k", 0, ZGEN_MAX_TOP_K, 0, &v) < 0) {
		return -1;
	}
	c->top_k = (uint8_t)v;
	if (PyDict_GetItemString(d, "confidence") != NULL && PyDict_GetItemString(d, "confidence") != Py_None) {
		c->has_confidence = true;
		if (get_float(d, "confidence", &c->confidence) < 0) {
			return -1;
		}
	}
	if (get_long_or(d, "gate_index", -1, 1L << 14, -1, &v) < 0) {
		return -1;
	}
	c->gate_index = (int16_t)v;
	if (c->gate_index >= 0) {
		if (get_long(d, "gate_above", 0, 1, &v) < 0 || get_float(d, "gate_threshold", &c->gate_threshold) < 0) {
			return -1;
		}
		c->gate_above = v != 0;
	}
	if (get_long_or(d, "rate_limit", 0, 1L << 30, 0, &v) < 0) {
		return -1;
	}
	c->rate_limit = (uint32_t)v;
	if (get_long_or(d, "average", 1, 64, 1, &v) < 0) {
		return -1;
	}
	c->average = (uint16_t)v;
	if (get_long_or(d, "suppress", 0, 1L << 30, 0, &v) < 0) {
		return -1;
	}
	c->suppress = (uint32_t)v;
	self->state_off = get_str(d, "state_off");
	self->state_on = get_str(d, "state_on");
	if (self->state_off == NULL || self->state_on == NULL) {
		return -1;
	}
	c->state_off = self->state_off;
	c->state_on = self->state_on;
	self->state_unknown = PyDict_GetItemString(d, "state_unknown") != NULL ? get_str(d, "state_unknown")
									     : get_str(d, "state_off");
	if (self->state_unknown == NULL) {
		return -1;
	}
	c->state_unknown = self->state_unknown;
	if (c->score == ZGEN_SCORE_CLASS &&
	    (load_labels(self, d) < 0 || load_class_floats(self, d, "class_on", &self->class_on) < 0 ||
	     load_class_floats(self, d, "class_off", &self->class_off) < 0)) {
		return -1;
	}
	c->class_on = self->class_on;
	c->class_off = self->class_off;
	if (load_outputs(self, d) < 0) {
		return -1;
	}

	cells = ZGEN_RING_LEN(c->window_length, c->channels);
	self->ring = PyMem_Calloc(cells, sizeof(float));
	self->work = PyMem_Calloc(ZGEN_WORK_LEN(c->window_length, c->channels), sizeof(float));
	self->feat = PyMem_Calloc(c->input.count, sizeof(float));
	self->input = PyMem_Calloc(c->input.count, 4);
	self->scratch = PyMem_Calloc((size_t)c->scratch_len + 1U, sizeof(float));
	self->state = PyMem_Calloc((size_t)c->state_words + 1U, sizeof(uint32_t));
	self->stack = PyMem_Calloc(ZGEN_STACK_LEN(c->frame_count, c->frame_features) + 1U, sizeof(float));
	self->history = PyMem_Calloc(
		ZGEN_HISTORY_LEN(c->average, c->score == ZGEN_SCORE_CLASS ? c->classes : 1U) + 1U,
		sizeof(float));
	if (self->ring == NULL || self->work == NULL || self->feat == NULL || self->input == NULL ||
	    self->scratch == NULL || self->state == NULL || self->stack == NULL || self->history == NULL) {
		PyErr_NoMemory();
		return -1;
	}
	if (c->frame_count > 0U && (size_t)c->frame_count * c->frame_features != c->input.count) {
		PyErr_SetString(PyExc_ValueError, "frame_count x frame_features must equal the input count");
		return -1;
	}
	struct zgen_buffers buf = {
		.ring = self->ring,
		.work = self->work,
		.scratch = self->scratch,
		.state = self->state,
		.stack = self->stack,
		.history = self->history,
	};

	if (zgen_init(&self->pipe, c, &buf) != 0) {
		PyErr_SetString(PyExc_ValueError, "zgen_init rejected the configuration");
		return -1;
	}
	return 0;
}

static void Pipeline_dealloc(PipelineObject *self)
{
	PyMem_Free(self->features);
	for (Py_ssize_t i = 0; i < self->n_tables; i++) {
		PyMem_Free(self->tables[i]);
	}
	PyMem_Free(self->tables);
	PyMem_Free(self->scratch);
	PyMem_Free(self->state);
	PyMem_Free(self->stack);
	PyMem_Free(self->history);
	PyMem_Free(self->ring);
	PyMem_Free(self->work);
	PyMem_Free(self->feat);
	PyMem_Free(self->input);
	PyMem_Free(self->state_off);
	PyMem_Free(self->state_on);
	PyMem_Free(self->state_unknown);
	free_strings(self->labels, self->n_labels);
	PyMem_Free(self->class_on);
	PyMem_Free(self->class_off);
	PyMem_Free(self->outputs);
	free_strings(self->output_names, self->n_outputs);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

/* push(values, start) -> (next, ready): values is a buffer of int32
 * (val1, val2) pairs, `channels` pairs a sample. Pushes samples from index
 * `start` until one completes a window (ready=True) or the data ends. */
static PyObject *Pipeline_push(PipelineObject *self, PyObject *args)
{
	Py_buffer buf;
	Py_ssize_t start;
	const size_t per = (size_t)self->cfg.channels * 2U;
	Py_ssize_t n;
	bool ready = false;
	float sample[ZGEN_MAX_CHANNELS];

	if (!PyArg_ParseTuple(args, "y*n", &buf, &start)) {
		return NULL;
	}
	if (buf.len % (Py_ssize_t)(per * sizeof(int32_t)) != 0 || start < 0) {
		PyBuffer_Release(&buf);
		PyErr_SetString(PyExc_ValueError, "values must hold whole samples of int32 pairs");
		return NULL;
	}
	n = buf.len / (Py_ssize_t)(per * sizeof(int32_t));
	while (start < n && !ready) {
		const int32_t *v = (const int32_t *)buf.buf + (size_t)start * per;

		for (uint16_t c = 0; c < self->cfg.channels; c++) {
			sample[c] = zgen_sensor_value_to_float(v[2 * c], v[2 * c + 1]);
		}
		ready = zgen_push(&self->pipe, sample);
		start++;
	}
	PyBuffer_Release(&buf);
	return Py_BuildValue("nO", start, ready ? Py_True : Py_False);
}

/* features() -> (model_input: bytes, features: list[float]), or None when
 * no decision is due (streams: a frame joined the stack) */
static PyObject *Pipeline_features(PipelineObject *self, PyObject *Py_UNUSED(ignored))
{
	const uint32_t n = self->cfg.input.count;
	PyObject *list;

	if (!zgen_features(&self->pipe, self->input, self->feat)) {
		Py_RETURN_NONE;
	}
	list = PyList_New(n);
	if (list == NULL) {
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++) {
		PyList_SET_ITEM(list, i, PyFloat_FromDouble((double)self->feat[i]));
	}
	return Py_BuildValue("y#N", (const char *)self->input,
			     (Py_ssize_t)(n * dtype_size(self->cfg.input.dtype)), list);
}

static int check_tensor_buf(const Py_buffer *b, const struct zgen_tensor *t, const char *what)
{
	if ((size_t)b->len != t->count * dtype_size(t->dtype)) {
		PyErr_Format(PyExc_ValueError, "%s must be %zu bytes, got %zd", what,
			     (size_t)(t->count * dtype_size(t->dtype)), b->len);
		return -1;
	}
	return 0;
}

/* decide(model_input, model_output) -> (line, changed, score) */
static PyObject *Pipeline_decide(PipelineObject *self, PyObject *args)
{
	Py_buffer in, out;
	char line[ZGEN_LINE_MAX];
	bool changed;
	float score;
	PyObject *r = NULL;

	if (!PyArg_ParseTuple(args, "y*y*", &in, &out)) {
		return NULL;
	}
	if (check_tensor_buf(&in, &self->cfg.input, "model input") == 0 &&
	    check_tensor_buf(&out, &self->cfg.output, "model output") == 0) {
		score = zgen_score(&self->cfg, in.buf, out.buf, NULL);
		zgen_decide(&self->pipe, in.buf, out.buf, line, &changed);
		r = Py_BuildValue("sOd", line, changed ? Py_True : Py_False, (double)score);
	}
	PyBuffer_Release(&in);
	PyBuffer_Release(&out);
	return r;
}

/* score(model_input, model_output) -> (score, class): the post-processing's
 * score alone, without touching the decision state. */
static PyObject *Pipeline_score(PipelineObject *self, PyObject *args)
{
	Py_buffer in, out;
	PyObject *r = NULL;
	uint16_t cls = 0;

	if (!PyArg_ParseTuple(args, "y*y*", &in, &out)) {
		return NULL;
	}
	if (check_tensor_buf(&in, &self->cfg.input, "model input") == 0 &&
	    check_tensor_buf(&out, &self->cfg.output, "model output") == 0) {
		float score = zgen_score(&self->cfg, in.buf, out.buf, &cls);

		r = Py_BuildValue("di", (double)score, (int)cls);
	}
	PyBuffer_Release(&in);
	PyBuffer_Release(&out);
	return r;
}

/* actions() -> [line]: the output actions of the last decide(), as the firmware prints
 * them (levels as set). */
static PyObject *Pipeline_actions(PipelineObject *self, PyObject *Py_UNUSED(ignored))
{
	PyObject *list = PyList_New(0);
	struct zgen_action a;
	uint32_t next = 0;
	char line[ZGEN_LINE_MAX];

	if (list == NULL) {
		return NULL;
	}
	while (zgen_output_next(&self->pipe, &next, &a)) {
		PyObject *s;

		zgen_line_action(&self->pipe, line, &a, a.level);
		s = PyUnicode_FromString(line);
		if (s == NULL || PyList_Append(list, s) < 0) {
			Py_XDECREF(s);
			Py_DECREF(list);
			return NULL;
		}
		Py_DECREF(s);
	}
	return list;
}

/* levels() -> [int]: each output's level now (LEVEL outputs; 0 for the others). */
static PyObject *Pipeline_levels(PipelineObject *self, PyObject *Py_UNUSED(ignored))
{
	PyObject *list = PyList_New(self->cfg.output_count);

	for (uint32_t i = 0; list != NULL && i < self->cfg.output_count; i++) {
		PyList_SET_ITEM(list, i, PyLong_FromLong(zgen_output_level(&self->pipe, i)));
	}
	return list;
}

static PyObject *Pipeline_start_line(PipelineObject *self, PyObject *args)
{
	const char *version, *app, *hash;
	unsigned long used, size;
	char line[ZGEN_LINE_MAX];

	if (!PyArg_ParseTuple(args, "ssskk", &version, &app, &hash, &used, &size)) {
		return NULL;
	}
	zgen_line_start(line, version, app, hash, &self->cfg, (uint32_t)used, (uint32_t)size);
	return PyUnicode_FromString(line);
}

static PyObject *Pipeline_read_error_line(PipelineObject *self, PyObject *args)
{
	int err;
	char line[ZGEN_LINE_MAX];

	if (!PyArg_ParseTuple(args, "i", &err)) {
		return NULL;
	}
	zgen_line_read_error(&self->pipe, line, err);
	return PyUnicode_FromString(line);
}

static PyObject *Pipeline_overrun_line(PipelineObject *self, PyObject *args)
{
	unsigned long missed;
	char line[ZGEN_LINE_MAX];

	if (!PyArg_ParseTuple(args, "k", &missed)) {
		return NULL;
	}
	zgen_line_overrun(&self->pipe, line, (uint32_t)missed);
	return PyUnicode_FromString(line);
}

static PyObject *Pipeline_end_line(PipelineObject *self, PyObject *Py_UNUSED(ignored))
{
	char line[ZGEN_LINE_MAX];

	zgen_line_end(&self->pipe, line);
	return PyUnicode_FromString(line);
}

static PyMethodDef Pipeline_methods[] = {
	{"push", (PyCFunction)Pipeline_push, METH_VARARGS,
	 "push(values, start) -> (next, ready): feed int32 (val1, val2) samples"},
	{"features", (PyCFunction)Pipeline_features, METH_NOARGS,
	 "features() -> (model_input, features): run the feature chain on the window"},
	{"decide", (PyCFunction)Pipeline_decide, METH_VARARGS,
	 "decide(model_input, model_output) -> (line, changed, score)"},
	{"score", (PyCFunction)Pipeline_score, METH_VARARGS,
	 "score(model_input, model_output) -> (score, class), state untouched"},
	{"actions", (PyCFunction)Pipeline_actions, METH_NOARGS,
	 "actions() -> [line]: the output actions of the last decide()"},
	{"levels", (PyCFunction)Pipeline_levels, METH_NOARGS, "levels() -> [int]: each output's level"},
	{"start_line", (PyCFunction)Pipeline_start_line, METH_VARARGS,
	 "start_line(version, app, model_hash, arena_used, arena_size) -> str"},
	{"read_error_line", (PyCFunction)Pipeline_read_error_line, METH_VARARGS,
	 "read_error_line(err) -> str"},
	{"overrun_line", (PyCFunction)Pipeline_overrun_line, METH_VARARGS,
	 "overrun_line(missed) -> str"},
	{"end_line", (PyCFunction)Pipeline_end_line, METH_NOARGS, "end_line() -> str"},
	{NULL, NULL, 0, NULL},
};

static PyTypeObject PipelineType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "zgen._runtime.Pipeline",
	.tp_doc = "The zgen C runtime for one pipeline configuration.",
	.tp_basicsize = sizeof(PipelineObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_new = PyType_GenericNew,
	.tp_init = (initproc)Pipeline_init,
	.tp_dealloc = (destructor)Pipeline_dealloc,
	.tp_methods = Pipeline_methods,
};

static PyObject *sensor_value_to_float(PyObject *Py_UNUSED(m), PyObject *args)
{
	int val1, val2;

	if (!PyArg_ParseTuple(args, "ii", &val1, &val2)) {
		return NULL;
	}
	return PyFloat_FromDouble((double)zgen_sensor_value_to_float(val1, val2));
}

static PyMethodDef module_methods[] = {
	{"sensor_value_to_float", sensor_value_to_float, METH_VARARGS,
	 "sensor_value_to_float(val1, val2) -> float, as the firmware converts"},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef runtime_module = {
	PyModuleDef_HEAD_INIT, .m_name = "zgen._runtime",
	.m_doc = "The zgen C runtime compiled for the host.", .m_size = -1,
	.m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__runtime(void)
{
	PyObject *m;

	if (PyType_Ready(&PipelineType) < 0) {
		return NULL;
	}
	m = PyModule_Create(&runtime_module);
	if (m == NULL) {
		return NULL;
	}
	Py_INCREF(&PipelineType);
	if (PyModule_AddObject(m, "Pipeline", (PyObject *)&PipelineType) < 0) {
		Py_DECREF(&PipelineType);
		Py_DECREF(m);
		return NULL;
	}
	PyModule_AddIntConstant(m, "LINE_MAX", ZGEN_LINE_MAX);
	PyModule_AddIntConstant(m, "MAX_CHANNELS", ZGEN_MAX_CHANNELS);
	return m;
}
