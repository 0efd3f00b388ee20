"""Knowledge-base passages as the analysis sees them: retrieved text and its citation."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from workflow.domain.threat_model import Citation

__all__ = ["Passage"]


class Passage(BaseModel):
    """A knowledge-base passage returned by retrieval."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    document: str
    section: str = ""
    version: int = 1
    collection: str = "builtin"
    text: str
    score: float = 0.0

    def citation(self) -> Citation:
        """This passage as a citation on a finding."""
        return Citation(document=self.document, section=self.section, chunk_id=self.chunk_id,
                        version=self.version, collection=self.collection)
