"""Repairs: plan (a diff, with evidence) -> confirm -> apply through the store -> verify.

A check names the repair ids that fix it; faces (CLI, console) offer them. Every face
runs the same `plan_repair` and `apply_plan`."""
