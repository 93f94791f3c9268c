"""The trainee sandbox: exercises, sessions, grading, the Gymnasium environment and the
browser console (`training.console`)."""
