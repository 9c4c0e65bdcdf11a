"""Fleet: registry built from vehicle messages, and supervision (lost, back, charging)."""
