"""A library of short lecture scripts, one per topic, for synthetic lectures.

Each topic is a coherent block with its own vocabulary, split into one or two slides.
A slide lists bullets; each bullet carries the sentences the lecturer says while it is
on screen. When a slide `builds`, its bullets appear one at a time as the lecturer
reaches them (a bullet build, which is not a slide change); otherwise the whole slide
appears at once.

The sentences avoid digits, abbreviations and symbols so that a speech synthesiser
reads them the way they are written and a transcript can be compared word for word.
Lecturer cues marking importance are not part of the texts: the generator inserts
`IMPORTANCE_CUES` into the one topic it marks important, so every topic can play
either role.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BulletScript:
    text: str
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class SlideScript:
    title: str
    bullets: tuple[BulletScript, ...]
    builds: bool = False


@dataclass(frozen=True)
class TopicScript:
    key: str
    title: str
    keywords: tuple[str, ...]
    slides: tuple[SlideScript, ...]

    @property
    def sentences(self) -> list[str]:
        return [s for slide in self.slides for b in slide.bullets for s in b.sentences]


# Spoken by the lecturer inside the important topic, in this order: one early, one in
# the middle, one near the end.
IMPORTANCE_CUES: tuple[str, ...] = (
    "This is the key idea of today's lecture, so pay close attention.",
    "Remember this definition, because it will be on the exam.",
    "If you remember one thing from today, remember this.",
)


def _slide(
    title: str, bullets: list[tuple[str, list[str]]], *, builds: bool = False
) -> SlideScript:
    return SlideScript(
        title=title,
        bullets=tuple(BulletScript(text, tuple(sentences)) for text, sentences in bullets),
        builds=builds,
    )


def _topic(key: str, title: str, keywords: list[str], slides: list[SlideScript]) -> TopicScript:
    return TopicScript(key=key, title=title, keywords=tuple(keywords), slides=tuple(slides))


TOPICS: tuple[TopicScript, ...] = (
    _topic(
        "hash_tables",
        "Hash Tables",
        ["hash table", "hash function", "bucket", "collision", "load factor", "key"],
        [
            _slide(
                "Hash tables: the idea",
                [
                    (
                        "A hash function maps each key to a bucket",
                        [
                            "A hash table stores values in an array of buckets.",
                            "A hash function turns every key into the index of a bucket.",
                        ],
                    ),
                    (
                        "Lookups take constant time on average",
                        [
                            "To find a key we compute its hash and look in exactly one bucket.",
                            "So a lookup takes constant time on average, no matter how many keys we store.",
                        ],
                    ),
                ],
                builds=True,
            ),
            _slide(
                "Collisions and the load factor",
                [
                    (
                        "Collisions: two keys share a bucket",
                        [
                            "Sometimes two different keys land in the same bucket, and we call that a collision.",
                            "With chaining, each bucket keeps a short list of the keys that collided there.",
                        ],
                    ),
                    (
                        "Resize when the load factor grows",
                        [
                            "The load factor is the number of keys divided by the number of buckets.",
                            "When the load factor grows too large, the table doubles its buckets and rehashes every key.",
                        ],
                    ),
                ],
            ),
        ],
    ),
    _topic(
        "binary_search_trees",
        "Binary Search Trees",
        ["binary search tree", "node", "left subtree", "right subtree", "balanced", "height"],
        [
            _slide(
                "The search tree property",
                [
                    (
                        "Smaller keys go left, larger keys go right",
                        [
                            "A binary search tree is made of nodes, and each node holds one key.",
                            "Every key in the left subtree is smaller than the node, and every key in the right subtree is larger.",
                        ],
                    ),
                    (
                        "Search follows a single path from the root",
                        [
                            "To search, we start at the root and go left or right at each node.",
                            "An in order walk of the tree visits the keys in sorted order.",
                        ],
                    ),
                ],
                builds=True,
            ),
            _slide(
                "Keeping the tree balanced",
                [
                    (
                        "Cost depends on the height of the tree",
                        [
                            "The cost of a search depends on the height of the tree.",
                            "If we insert keys in sorted order, the tree turns into a long chain.",
                        ],
                    ),
                    (
                        "Rotations keep the height logarithmic",
                        [
                            "Balanced trees such as red black trees use rotations after each insertion.",
                            "Rotations keep the height logarithmic, so search stays fast.",
                        ],
                    ),
                ],
            ),
        ],
    ),
    _topic(
        "sorting",
        "Sorting Algorithms",
        ["sorting", "merge sort", "quicksort", "pivot", "comparison", "stable"],
        [
            _slide(
                "Divide and conquer sorting",
                [
                    (
                        "Merge sort splits, sorts and merges",
                        [
                            "Merge sort splits the list in half and sorts each half on its own.",
                            "Then it merges the two sorted halves by repeatedly taking the smaller front element.",
                        ],
                    ),
                    (
                        "Quicksort partitions around a pivot",
                        [
                            "Quicksort picks a pivot and moves smaller elements to its left and larger elements to its right.",
                            "A random pivot makes the bad cases very unlikely in practice.",
                        ],
                    ),
                    (
                        "Stable sorts keep equal keys in order",
                        [
                            "A stable sort keeps equal keys in the order they arrived.",
                            "Merge sort is stable, but the usual quicksort is not.",
                        ],
                    ),
                ],
                builds=True,
            ),
            _slide(
                "The comparison lower bound",
                [
                    (
                        "Every comparison sort needs n log n comparisons",
                        [
                            "Any sorting algorithm that only compares elements needs about n log n comparisons in the worst case.",
                            "That is why merge sort is optimal among comparison sorts.",
                        ],
                    ),
                ],
            ),
        ],
    ),
    _topic(
        "graph_traversal",
        "Graph Traversal",
        ["graph", "vertex", "edge", "breadth first search", "depth first search", "queue", "stack"],
        [
            _slide(
                "Exploring a graph",
                [
                    (
                        "A graph is vertices joined by edges",
                        [
                            "A graph is a set of vertices joined by edges.",
                            "Road maps, social networks and web pages can all be drawn as graphs.",
                        ],
                    ),
                    (
                        "Breadth first search uses a queue",
                        [
                            "Breadth first search visits vertices in waves, using a queue.",
                            "It finds the shortest path when every edge has the same length.",
                        ],
                    ),
                ],
                builds=True,
            ),
            _slide(
                "Depth first search",
                [
                    (
                        "Depth first search uses a stack",
                        [
                            "Depth first search follows one path as deep as it can, using a stack.",
                            "When it reaches a dead end, it backtracks to the last vertex with unexplored edges.",
                        ],
                    ),
                    (
                        "Mark visited vertices to avoid loops",
                        [
                            "Both searches mark each vertex as visited, so cycles do not trap them.",
                            "Either search touches every vertex and every edge once, which is linear time.",
                        ],
                    ),
                ],
                builds=True,
            ),
        ],
    ),
    _topic(
        "dynamic_programming",
        "Dynamic Programming",
        ["dynamic programming", "subproblem", "memoization", "recurrence", "table", "optimal"],
        [
            _slide(
                "Overlapping subproblems",
                [
                    (
                        "Break a problem into overlapping subproblems",
                        [
                            "Dynamic programming solves a problem by combining answers to smaller subproblems.",
                            "It pays off when the same subproblems appear again and again.",
                        ],
                    ),
                    (
                        "Memoization stores each answer once",
                        [
                            "With memoization, we store each answer the first time we compute it.",
                            "The Fibonacci numbers drop from exponential time to linear time this way.",
                        ],
                    ),
                ],
                builds=True,
            ),
            _slide(
                "Filling the table",
                [
                    (
                        "Write the recurrence, then fill a table",
                        [
                            "First we write a recurrence that expresses the optimal answer through smaller answers.",
                            "Then we fill a table from the smallest subproblems up to the full problem.",
                            "The edit distance between two words is a classic example of this table.",
                        ],
                    ),
                ],
            ),
        ],
    ),
    _topic(
        "photosynthesis",
        "Photosynthesis",
        ["photosynthesis", "chlorophyll", "light", "carbon dioxide", "glucose", "oxygen"],
        [
            _slide(
                "Light into sugar",
                [
                    (
                        "Plants turn light into chemical energy",
                        [
                            "Photosynthesis is how plants turn the energy of light into chemical energy.",
                            "It happens inside the chloroplasts, which are packed with the green pigment chlorophyll.",
                        ],
                    ),
                    (
                        "Carbon dioxide and water become glucose and oxygen",
                        [
                            "The plant takes in carbon dioxide from the air and water from the soil.",
                            "It builds glucose from them and releases oxygen as a by product.",
                        ],
                    ),
                ],
                builds=True,
            ),
            _slide(
                "Two stages",
                [
                    (
                        "The light reactions capture energy",
                        [
                            "In the light reactions, chlorophyll absorbs light and splits water molecules.",
                            "That energy is stored for a short time in small carrier molecules.",
                        ],
                    ),
                    (
                        "The Calvin cycle fixes carbon",
                        [
                            "The Calvin cycle then uses those carriers to fix carbon dioxide into sugar.",
                        ],
                    ),
                ],
            ),
        ],
    ),
    _topic(
        "supply_demand",
        "Supply and Demand",
        ["supply", "demand", "price", "equilibrium", "shortage", "surplus"],
        [
            _slide(
                "Two curves",
                [
                    (
                        "Demand falls as the price rises",
                        [
                            "The demand curve shows how much buyers want at each price.",
                            "When the price rises, people buy less, so demand slopes downward.",
                        ],
                    ),
                    (
                        "Supply rises with the price",
                        [
                            "The supply curve shows how much sellers offer at each price.",
                            "A higher price makes production more attractive, so supply slopes upward.",
                        ],
                    ),
                ],
                builds=True,
            ),
            _slide(
                "Market equilibrium",
                [
                    (
                        "Equilibrium is where the curves cross",
                        [
                            "The market settles where the two curves cross, at the equilibrium price.",
                            "Above that price there is a surplus, and sellers cut their prices.",
                            "Below that price there is a shortage, and buyers bid the price back up.",
                        ],
                    ),
                ],
            ),
        ],
    ),
    _topic(
        "french_revolution",
        "The French Revolution",
        ["revolution", "estates general", "bastille", "monarchy", "republic", "terror"],
        [
            _slide(
                "The crisis of the old regime",
                [
                    (
                        "A bankrupt monarchy calls the Estates General",
                        [
                            "By the late eighteenth century the French monarchy was close to bankruptcy.",
                            "The king called the Estates General to approve new taxes.",
                        ],
                    ),
                    (
                        "The storming of the Bastille",
                        [
                            "The third estate declared itself a national assembly and demanded a constitution.",
                            "In July a Paris crowd stormed the Bastille, a royal fortress and prison.",
                        ],
                    ),
                ],
                builds=True,
            ),
            _slide(
                "From monarchy to republic",
                [
                    (
                        "The republic and the Terror",
                        [
                            "A few years later the monarchy was abolished and France became a republic.",
                            "During the Terror, thousands of suspected enemies of the revolution were executed.",
                        ],
                    ),
                    (
                        "Napoleon ends the revolution",
                        [
                            "The revolution ended when Napoleon Bonaparte seized power in a coup.",
                        ],
                    ),
                ],
            ),
        ],
    ),
    _topic(
        "plate_tectonics",
        "Plate Tectonics",
        ["plate", "crust", "mantle", "earthquake", "volcano", "subduction"],
        [
            _slide(
                "A moving surface",
                [
                    (
                        "The crust is broken into plates",
                        [
                            "The outer shell of the Earth is broken into large rigid plates.",
                            "The plates float on the hot, slowly flowing rock of the mantle.",
                            "They move only a few centimetres a year, about as fast as fingernails grow.",
                        ],
                    ),
                ],
            ),
            _slide(
                "Plate boundaries",
                [
                    (
                        "Plates spread apart at mid ocean ridges",
                        [
                            "Where plates pull apart, new crust forms at mid ocean ridges.",
                        ],
                    ),
                    (
                        "Subduction builds volcanoes",
                        [
                            "Where they collide, one plate can sink below the other, which is called subduction.",
                            "Subduction zones produce deep trenches and chains of volcanoes.",
                        ],
                    ),
                    (
                        "Sliding plates cause earthquakes",
                        [
                            "Where plates slide past each other, stress builds up and is released as earthquakes.",
                        ],
                    ),
                ],
                builds=True,
            ),
        ],
    ),
    _topic(
        "immune_system",
        "The Immune System",
        ["immune system", "antibodies", "antigen", "white blood cell", "vaccine", "memory"],
        [
            _slide(
                "Two lines of defence",
                [
                    (
                        "Innate immunity responds at once",
                        [
                            "The immune system protects the body against bacteria and viruses.",
                            "The innate response acts within minutes, but it treats every invader the same way.",
                        ],
                    ),
                    (
                        "Adaptive immunity learns the invader",
                        [
                            "The adaptive response takes days, but it learns the exact shape of the invader.",
                            "Each foreign molecule it recognises is called an antigen.",
                        ],
                    ),
                ],
                builds=True,
            ),
            _slide(
                "Antibodies and memory",
                [
                    (
                        "White blood cells make antibodies",
                        [
                            "White blood cells called B cells release antibodies that stick to one antigen.",
                            "The antibodies mark the invader so other cells can destroy it.",
                        ],
                    ),
                    (
                        "Memory cells make vaccines work",
                        [
                            "Some of these cells stay behind as memory cells for many years.",
                            "A vaccine trains this memory without the danger of a real infection.",
                        ],
                    ),
                ],
            ),
        ],
    ),
    _topic(
        "newtons_laws",
        "Newton's Laws of Motion",
        ["force", "mass", "acceleration", "inertia", "momentum", "reaction"],
        [
            _slide(
                "The three laws",
                [
                    (
                        "First law: inertia",
                        [
                            "Newton's first law says that an object keeps its velocity unless a force acts on it.",
                            "This tendency to resist changes in motion is called inertia.",
                        ],
                    ),
                    (
                        "Second law: force equals mass times acceleration",
                        [
                            "The second law says that force equals mass times acceleration.",
                            "Push twice as hard on the same cart, and it speeds up twice as quickly.",
                        ],
                    ),
                    (
                        "Third law: action and reaction",
                        [
                            "The third law says that every action has an equal and opposite reaction.",
                            "A rocket pushes gas backward, and the gas pushes the rocket forward.",
                        ],
                    ),
                ],
                builds=True,
            ),
            _slide(
                "Momentum",
                [
                    (
                        "Momentum is conserved",
                        [
                            "Momentum is mass times velocity, and in a closed system it is conserved.",
                            "That is why two skaters who push apart glide away at speeds set by their masses.",
                        ],
                    ),
                ],
            ),
        ],
    ),
    _topic(
        "water_cycle",
        "The Water Cycle",
        ["water cycle", "evaporation", "condensation", "precipitation", "groundwater", "runoff"],
        [
            _slide(
                "Water on the move",
                [
                    (
                        "Evaporation lifts water into the air",
                        [
                            "The water cycle starts when the sun heats the oceans and water rises into the air as vapour, which we call evaporation.",
                            "Plants add more vapour through their leaves, which is called transpiration.",
                        ],
                    ),
                    (
                        "Condensation forms clouds",
                        [
                            "As the moist air rises it cools, and condensation turns the vapour into tiny droplets.",
                            "Billions of these droplets together make a cloud.",
                        ],
                    ),
                ],
                builds=True,
            ),
            _slide(
                "Back to the ground",
                [
                    (
                        "Precipitation, runoff and groundwater",
                        [
                            "When the droplets grow heavy, they fall as rain or snow, which we call precipitation.",
                            "Some of that water flows over the land as runoff into rivers and lakes.",
                            "The rest soaks into the soil and becomes groundwater, and slowly the cycle starts again.",
                        ],
                    ),
                ],
            ),
        ],
    ),
)

TOPICS_BY_KEY: dict[str, TopicScript] = {t.key: t for t in TOPICS}
