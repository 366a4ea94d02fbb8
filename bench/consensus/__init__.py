"""The consensus simulation behind bench/consensus_sim.py, one concern per module.

- data: the lines (real printed lines and Tesseract's reading of each, or rendered ones)
- labelers: the simulated population and its error rates
- slots: what each labeler types on a line, blind or prefilled
- policies: the platform's agreement rule (labeling.review.agreement.decide) and variants
- measure: running the policies and tallying labels per line and agreed CER
- report: printing it all
"""
