"""zgen: one YAML manifest to a Zephyr TinyML application, simulated on the host."""

__version__ = "0.1.0"
