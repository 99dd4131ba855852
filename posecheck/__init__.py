"""posecheck: a camera-based exercise trainer for people with low back pain.

Data flows one way: frame source -> pose landmarks -> exercise checker -> overlay and report.
"""

__version__ = "0.1.0"
