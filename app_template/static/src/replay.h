/* Recorded streams played by the zgen replay sensor (see replay_sensor.c). */
#ifndef ZGEN_REPLAY_H_
#define ZGEN_REPLAY_H_

#include <stdint.h>
#include <zephyr/drivers/sensor.h>

struct zgen_replay_stream {
	const void *data;          /* [samples][values] of int16_t or int32_t */
	uint32_t samples;
	uint8_t values;            /* values per sample (3 for XYZ channels) */
	uint8_t wide;              /* 1: int32_t data, 0: int16_t data */
	uint8_t decimals;          /* value = raw / 10^decimals (0..6) */
	enum sensor_channel channel;
};

extern const struct zgen_replay_stream zgen_replay_streams[];
extern const uint32_t zgen_replay_stream_count;

/* Faults the manifest's test section declares, by recording sample (test.faults). */
enum zgen_replay_fault_kind {
	ZGEN_FAULT_READ_ERRORS, /* the next `amount` reads fail with -EIO; their samples are lost */
	ZGEN_FAULT_DROP,        /* `amount` samples never arrive (no error: later ones shift) */
	ZGEN_FAULT_STALL_MS,    /* that sample's read blocks for `amount` ms */
};

struct zgen_replay_fault {
	uint32_t sample;
	uint32_t amount;
	uint8_t kind; /* enum zgen_replay_fault_kind */
};

extern const struct zgen_replay_fault zgen_replay_faults[];
extern const uint32_t zgen_replay_fault_count;

/* Microphone apps: the recording's 16-bit PCM, mono. */
extern const int16_t zgen_replay_pcm[];
extern const uint32_t zgen_replay_pcm_samples;
extern const uint32_t zgen_replay_pcm_rate;

#endif /* ZGEN_REPLAY_H_ */
