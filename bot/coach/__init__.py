"""Coach review pages: profiles, German pre-interview summaries, workflow, exports, overview."""
