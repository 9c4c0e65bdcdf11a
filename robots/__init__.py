"""The vehicle side of VDA 5050: the agent, the Drive port, kinematic and hardware drives."""
