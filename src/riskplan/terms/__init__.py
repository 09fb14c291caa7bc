"""Terminology: the user's own MedDRA release and verbatim coding.

* :mod:`riskplan.terms.meddra` loads a MedDRA release from its ASCII distribution files
  (``riskplan terms load-meddra DIR``) and looks terms up (LLT, PT, primary and secondary SOCs);
* :mod:`riskplan.terms.coding` codes a reporter's verbatim to a PT with a loaded MedDRA release, or,
  when none is loaded, with the open term list (the plan's PT names and the bundled lay-term list);
* :mod:`riskplan.terms.tables` holds the tables, :mod:`riskplan.terms.cli` the ``terms`` commands.

MedDRA is licensed by ICH through the MSSO: riskplan never ships it, and the bundled open term list
holds PT names only, never MedDRA codes.
"""
