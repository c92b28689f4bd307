"""Lessons: guided, checked walks through a running cluster (docs/lessons.md).

format.py reads and checks the lesson files (lessons/*.yaml); player.py plays one lesson on a
cluster, level-triggered.  Plain Python over sim.cluster.Cluster, like the rest of sim/."""
from sim.lessons.format import CHAPTERS, LESSONS_DIR, Lesson, LessonError, Step, load_lessons, parse_lesson
from sim.lessons.player import Player

__all__ = ["CHAPTERS", "LESSONS_DIR", "Lesson", "LessonError", "Step", "load_lessons", "parse_lesson", "Player"]
