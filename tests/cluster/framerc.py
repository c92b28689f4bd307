"""A stand-in for the RunningCluster attributes cluster/worker/frames.py's frame_message reads."""


class FrameRc:
    name, frame, speed, paused = "x", 7, 1.0, False

    class engine:  # noqa: N801 - a stand-in for the engine's attributes a frame reads
        now = 3.0

        class config:  # noqa: N801
            etcd_heartbeat_interval = 0.1

    class lag:  # noqa: N801
        ratio = 1.0
