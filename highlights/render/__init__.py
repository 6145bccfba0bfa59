"""Clip compilation: cut, frame, caption and thumbnail the selected highlights.

Entry point: `render_clips(source_path, plans, transcript, layout, options, out_dir)`.
"""

from highlights.render.batch import Picture, ProgressCallback, render_clips
from highlights.render.errors import RenderError
from highlights.render.options import RenderOptions

__all__ = ["Picture", "ProgressCallback", "RenderError", "RenderOptions", "render_clips"]
