"""The bus: Transport port, MQTT and in-process adapters, topics, VDA 5050 and sorter wire models."""
