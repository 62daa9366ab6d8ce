"""The PDF audit report: context (what it says), charts (server-rendered SVG), pdf (WeasyPrint)."""
