"""The trainee sandbox: exercises, sessions, grading and the browser console (planned)."""
