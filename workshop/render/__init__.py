"""Rich drawing outside the command layer: the pieces the `workshop` CLI, the demo and the lab runner share.

Why not in the command package: the demo (workshop.tools.demo) and the lab
runner (workshop.labs) print an execution's timeline after a live run, exactly
as `workshop timeline ARN` does, and nothing outside the command package
imports it. So the timeline picture (render.timeline), the text pieces every
view uses (render.text) and the way a console reports the stack's failures
(render.console) live here; drawings only the commands use stay with the commands.
"""
