"""``negsim app``: watch one negotiation round by round and ask what-if, in the browser (Solara).

The page (:mod:`sim.app.page`) is thin; what it shows is computed by plain functions testable
without a browser: one run replayed round by round (:mod:`sim.app.replay`), what-if batches and
variant files (:mod:`sim.app.whatif`), results folders and their slicing (:mod:`sim.app.browse`),
and the folders the app may read and write (:mod:`sim.app.places`).
"""
