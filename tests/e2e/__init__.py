"""End-to-end tests: real Mosquitto with the generated secure setup, real processes, real faults."""
