"""Domain operations. Views call these; they never commit on the caller's behalf unless named so."""
