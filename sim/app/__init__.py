"""``negsim app``: watch one negotiation round by round and ask what-if, in the browser (Solara).

The server (:mod:`sim.app.server`) lets in only the user's own tab. The page (:mod:`sim.app.page` and its views
``page_run``, ``page_whatif``, ``page_results``, with :mod:`sim.app.notice` for its one line and its text boxes)
is thin; what it shows is computed by plain functions testable without a browser: one run replayed round by round
(:mod:`sim.app.replay`), what-if batches (:mod:`sim.app.whatif`) and the variant files they are saved as
(:mod:`sim.app.variants`), results folders and their slicing (:mod:`sim.app.browse`), the folders the app may read
and write (:mod:`sim.app.places`), and the HTML and SVG it draws (:mod:`sim.app.views`, :mod:`sim.app.charts`).
"""
