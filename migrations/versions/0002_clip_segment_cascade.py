"""A clip goes with its content segment (ON DELETE CASCADE), as the seed says of every
relationship; 0001 had SET NULL.

The pipeline never relied on SET NULL: content analysis deletes a job's clips before it
replaces the segments, and compilation makes new ones.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK_NAME = "fk_clips_content_segment_id_content_segments"


def _segment_link(ondelete: str) -> None:
    # batch mode: SQLite cannot alter a foreign key in place and recreates the table
    with op.batch_alter_table("clips") as batch:
        batch.drop_constraint(FK_NAME, type_="foreignkey")
        batch.create_foreign_key(
            FK_NAME, "content_segments", ["content_segment_id"], ["segment_id"], ondelete=ondelete
        )


def upgrade() -> None:
    _segment_link("CASCADE")


def downgrade() -> None:
    _segment_link("SET NULL")
