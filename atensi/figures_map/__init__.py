"""The map of open cases per kab/kota and the nearest LKSA and Balai/Sentra (/map/)."""
