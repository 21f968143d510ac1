"""Documents for filing: the official register forms as Excel and PDF, the annual archive, Excel import.

``definitions`` names the forms and their columns; ``xlsx`` and ``pdf`` render rows of
``risk_registry.workflow.snapshots.point_rows`` (or a filed version's snapshot) in those forms;
``archive`` zips a year's documents with a SHA-256 manifest; ``importer`` reads a 一览表 back
into risk points; ``services`` and ``selectors`` are what views, commands and tasks call.
"""
