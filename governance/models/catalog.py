"""The global framework catalogs: frameworks, their requirement trees and crosswalks.

Loaded from `governance/catalogs/*.yaml` by `manage.py load_catalogs`; read-only for users and
shared by every organisation (no tenant column).
"""

from __future__ import annotations

from django.db import models


class TextPolicy(models.TextChoices):
    FULL = "full", "Full official text"
    PARAPHRASE = "paraphrase", "Own paraphrase"
    IDS_AND_TITLES = "ids_and_titles", "Ids and titles only"


class TextStatus(models.TextChoices):
    OFFICIAL = "official", "Official text"
    PARAPHRASE = "paraphrase", "Paraphrase"
    UNOFFICIAL_CORRECTION = "unofficial-correction", "Unofficial correction"
    NOT_AVAILABLE = "not-available", "Text not available"


class AssessmentScale(models.TextChoices):
    """How results are worded: a "should" standard is addressed, never complied with."""

    CONFORMITY = "conformity", "Conformity (compliant / partially compliant / non-compliant)"
    GUIDANCE = "guidance", "Guidance (addressed / partly addressed / not addressed)"


class Framework(models.Model):
    urn = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80)
    ref_id = models.CharField(max_length=80)
    name = models.CharField(max_length=300)
    edition = models.CharField(max_length=80)
    publisher = models.CharField(max_length=300)
    published = models.DateField(null=True, blank=True)
    source = models.TextField(blank=True)
    licence = models.TextField(blank=True)
    text_policy = models.CharField(max_length=20, choices=TextPolicy.choices)
    assessment_scale = models.CharField(max_length=20, choices=AssessmentScale.choices,
                                        default=AssessmentScale.CONFORMITY)
    notes = models.TextField(blank=True)
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the catalog file's bytes.")
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["slug", "edition"]

    def __str__(self) -> str:
        return f"{self.ref_id} ({self.edition})"

    @property
    def is_guidance(self) -> bool:
        return self.assessment_scale == AssessmentScale.GUIDANCE


class Requirement(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="requirements")
    urn = models.CharField(max_length=250, unique=True)
    ref_id = models.CharField(max_length=80)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    kind = models.CharField(max_length=30)
    title = models.TextField(blank=True)
    text = models.TextField(blank=True)
    text_status = models.CharField(max_length=30, choices=TextStatus.choices)
    assessable = models.BooleanField(default=False)
    applies_from = models.DateField(null=True, blank=True)
    applies_from_source = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    depth = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["framework", "order"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "ref_id"], name="one_ref_id_per_framework"),
        ]

    def __str__(self) -> str:
        return f"{self.ref_id} {self.title}".strip()


class Relationship(models.TextChoices):
    """OLIR vocabulary: how the source requirement relates to the target."""

    EQUAL = "equal", "Equal"
    SUBSET = "subset", "Subset of"
    SUPERSET = "superset", "Superset of"
    INTERSECTS = "intersects", "Intersects with"


class Crosswalk(models.Model):
    source = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="crosswalks_out")
    target = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="crosswalks_in")
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    rationale = models.TextField(blank=True)  # required for an own mapping; a sourced row may rely on its source
    provenance = models.TextField()  # one line: document, version and locator, or own mapping and reviewer
    # Either a published crosswalk (document, publisher, version, url, locator) or the product's own mapping.
    is_own_mapping = models.BooleanField(default=False)
    source_document = models.CharField(max_length=300, blank=True)
    source_publisher = models.CharField(max_length=300, blank=True)
    source_version = models.CharField(max_length=200, blank=True)
    source_url = models.CharField(max_length=500, blank=True)
    source_locator = models.CharField(max_length=200, blank=True)  # row or page in the source document
    reviewer = models.CharField(max_length=200, blank=True)  # who stands behind an own mapping
    citation = models.CharField(max_length=300, blank=True)  # short inline form: "<source>, <locator>"
    theme = models.CharField(max_length=60, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="one_crosswalk_per_pair")]

    def __str__(self) -> str:
        return f"{self.source.ref_id} {self.relationship} {self.target.ref_id}"
