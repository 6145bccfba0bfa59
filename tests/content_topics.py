"""Lecture topic texts written for the content-analysis tests and benchmark.

Independent of the lecture generator in lecturesynth, so the local analyzer is
checked on wording it was not built around. Topics within one course share vocabulary
on purpose ("node", "element", "cell", "energy"), which is what makes topic
segmentation hard in real lectures.

``important`` marks a topic in which the lecturer signals weight (a definition, an exam
hint, "the key idea"); the others are ordinary exposition or housekeeping.
"""

from __future__ import annotations

from dataclasses import dataclass

from highlights.types import Transcript, TranscriptSegment, Word


@dataclass(frozen=True)
class TopicText:
    title: str
    sentences: tuple[str, ...]
    important: bool = False


def _topic(title: str, text: str, important: bool = False) -> TopicText:
    parts = [p.strip() for p in text.replace("\n", " ").split(". ") if p.strip()]
    sentences = tuple(p if p.endswith((".", "?", "!")) else p + "." for p in parts)
    return TopicText(title, sentences, important)


DATA_STRUCTURES = (
    _topic(
        "Course Logistics",
        """Good morning everyone and welcome back. Before we start, a few announcements about
        the schedule. The lab sessions move to Thursday afternoon starting next week. Office
        hours stay on Monday in the usual room on the third floor. The reading for this week
        is posted on the course website. Please submit the programming assignment through the
        online portal rather than by email. Late submissions lose ten percent per day. If you
        have a conflict with the midterm date, write to the teaching assistants by Friday.
        Also, the discussion forum is the best place to ask about the assignment. Right, that
        is all for the announcements, so let's get going.""",
    ),
    _topic(
        "Arrays and Memory Layout",
        """Let's begin with the simplest structure, the array. An array stores its elements in
        one contiguous block of memory. Because the elements sit next to each other, the
        address of element i is the base address plus i times the element size. That is why
        indexing an array takes constant time. Arrays also play very nicely with the processor
        cache, because reading one element pulls its neighbours into the cache line. The
        price is that the size of a static array is fixed when you allocate it. Inserting in
        the middle means shifting every later element one slot to the right. A dynamic array
        grows by allocating a bigger block, usually double the capacity, and copying the
        elements across. Doubling the capacity gives amortized constant time appends. So
        arrays are fast for indexing and scanning, slow for insertion in the middle.""",
    ),
    _topic(
        "Linked Lists and Pointers",
        """Now compare that with a linked list. A linked list stores each value in a separate
        node, and every node holds a pointer to the next node. The nodes can live anywhere in
        memory, so the list never needs one contiguous block. Inserting after a node you
        already hold is constant time: you just rewire two pointers. Deleting is the same,
        you point the previous node past the removed one. But finding the k-th node means
        walking the chain from the head, which takes linear time. A doubly linked list adds
        a pointer to the previous node as well, so you can walk backwards and delete a node
        given only a reference to it. Linked lists scatter nodes across the heap, so they
        suffer many cache misses. In practice a linked list often loses to a dynamic array
        unless you splice lists together or insert in the middle very often.""",
    ),
    _topic(
        "Hash Table Collisions",
        """This next part is the most important idea of the week, and it will be on the exam.
        A hash table maps keys to buckets with a hash function. A collision is defined as two
        different keys hashing to the same bucket. Collisions are unavoidable, because there
        are far more possible keys than buckets, by the pigeonhole principle. The first remedy
        is separate chaining: every bucket keeps a short chain of the keys that hashed there.
        The second remedy is open addressing, where a colliding key probes for another empty
        bucket. Linear probing checks the next bucket, then the one after, and suffers from
        clustering. Remember that the load factor, the number of keys divided by the number
        of buckets, controls how many collisions you get. When the load factor passes a
        threshold, the table resizes and rehashes every key. The key idea is that a good hash
        function plus a bounded load factor keeps lookups at expected constant time.""",
        important=True,
    ),
    _topic(
        "Binary Search Trees",
        """Next we move to trees. A binary search tree keeps an ordering invariant: every key
        in the left subtree is smaller than the root, and every key in the right subtree is
        larger. To search, you compare with the root and descend left or right. Insertion
        follows the same descent and attaches a new leaf. An in-order traversal visits the
        keys in sorted order. The cost of every operation is proportional to the height of
        the tree. If you insert keys in sorted order, the tree degenerates into a path and the
        height becomes linear. Balanced trees such as red-black trees and AVL trees perform
        rotations to keep the height logarithmic. A rotation rearranges a parent and child
        while preserving the ordering invariant. Deleting a node with two children replaces it
        with its in-order successor, the smallest key in the right subtree.""",
    ),
    _topic(
        "Heaps and Priority Queues",
        """Finally for today, heaps. A binary heap is a complete binary tree stored inside an
        array, where each parent is no larger than its children in a min-heap. The smallest
        element therefore sits at the root, at index zero of the array. The children of index
        i live at two i plus one and two i plus two. To insert, you append at the end and sift
        the new element up while it is smaller than its parent. To extract the minimum, you
        move the last element to the root and sift it down, swapping with the smaller child.
        Both operations take logarithmic time because the heap is always balanced. Building a
        heap from an unsorted array bottom-up takes only linear time. Heaps implement priority
        queues, which schedulers and Dijkstra's shortest path algorithm rely on. Heapsort
        repeatedly extracts the minimum to sort in place.""",
    ),
)

CELL_BIOLOGY = (
    _topic(
        "The Cell Membrane",
        """Let's start at the boundary of the cell, the plasma membrane. The membrane is a
        phospholipid bilayer, with hydrophilic heads facing the water on both sides and
        hydrophobic tails tucked inside. Small nonpolar molecules like oxygen and carbon
        dioxide diffuse straight through the bilayer. Ions and large polar molecules cannot,
        so they need transport proteins. Channel proteins open a pore that lets specific ions
        flow down their concentration gradient. Carrier proteins bind a solute and change
        shape to move it across. The fluid mosaic model describes proteins drifting within a
        fluid lipid layer. Cholesterol sits between the phospholipids and keeps the membrane
        fluidity stable across temperatures. Glycoproteins on the outer surface act as
        identity tags that other cells recognise.""",
    ),
    _topic(
        "Active Transport and the Sodium Potassium Pump",
        """Moving a solute against its gradient costs energy, and that is active transport.
        The classic example is the sodium potassium pump. For every molecule of ATP it
        hydrolyses, the pump pushes three sodium ions out and brings two potassium ions in.
        This keeps sodium concentrated outside and potassium concentrated inside the cell.
        Because more positive charge leaves than enters, the pump also builds a voltage
        across the membrane. Nerve cells spend a large share of their ATP running these
        pumps. Secondary active transport then harvests the sodium gradient: a symporter lets
        sodium flow back in and drags glucose along with it. So the pump stores energy in an
        ion gradient that other transporters spend. If the pump stops, the gradients collapse
        and the neuron can no longer fire.""",
    ),
    _topic(
        "Mitochondria and Cellular Respiration",
        """Where does all that ATP come from? Mostly from the mitochondria. This is the part
        you must know for the exam, so write it down. Cellular respiration is defined as the
        breakdown of glucose to carbon dioxide and water, capturing the released energy as
        ATP. Glycolysis splits glucose into two pyruvate molecules in the cytoplasm. The
        pyruvate enters the mitochondrion and feeds the citric acid cycle in the matrix. The
        cycle strips electrons onto the carriers NADH and FADH2. The electron transport chain
        in the inner mitochondrial membrane passes those electrons down to oxygen. Along the
        way it pumps protons into the intermembrane space. The key idea is chemiosmosis:
        protons flow back through ATP synthase, and that flow turns the enzyme like a turbine.
        In summary, one glucose yields roughly thirty ATP, most of it from oxidative
        phosphorylation.""",
        important=True,
    ),
    _topic(
        "Protein Synthesis at the Ribosome",
        """Now let's turn to how the cell builds proteins. A gene is first transcribed in the
        nucleus into messenger RNA. The messenger RNA travels out through a nuclear pore to a
        ribosome in the cytoplasm. The ribosome reads the sequence three bases at a time, one
        codon after another. Each transfer RNA carries one amino acid and an anticodon that
        pairs with a matching codon. The ribosome joins each new amino acid to the growing
        chain with a peptide bond. Translation begins at the start codon AUG and stops when a
        stop codon enters the ribosome. Ribosomes on the rough endoplasmic reticulum make
        proteins destined for secretion or for the membrane. The finished polypeptide then
        folds, often with help from chaperone proteins.""",
    ),
    _topic(
        "The Cell Cycle and Mitosis",
        """Last topic today is cell division. The cell cycle has interphase, when the cell
        grows and copies its DNA, and the mitotic phase, when it divides. During the S phase
        every chromosome is replicated into two sister chromatids. In prophase the chromatin
        condenses and the spindle starts to form. In metaphase the chromosomes line up along
        the middle of the spindle. In anaphase the sister chromatids are pulled apart toward
        opposite poles. Telophase rebuilds a nuclear envelope around each set of chromosomes,
        and cytokinesis pinches the cytoplasm in two. Checkpoints between the phases stop the
        cycle if the DNA is damaged. When those checkpoints fail, cells divide without control,
        which is how tumours begin.""",
    ),
)

# Further topics from other subjects, used to assemble long lectures for the benchmark.
MISCELLANEOUS = (
    _topic(
        "Supply and Demand",
        """A market brings buyers and sellers of one good together. The demand curve slopes
        downward: at a lower price, consumers buy a larger quantity. The supply curve slopes
        upward, because a higher price makes production profitable for more firms. The
        equilibrium price is where quantity supplied equals quantity demanded. If the price
        sits above equilibrium, a surplus piles up and sellers cut prices. Below equilibrium
        there is a shortage, and buyers bid the price up. A shift in consumer income or
        tastes moves the whole demand curve. A new technology that lowers costs shifts supply
        to the right and lowers the equilibrium price. Price controls such as rent ceilings
        hold the price away from equilibrium and create persistent shortages.""",
    ),
    _topic(
        "Newton's Laws of Motion",
        """Newton's first law says a body keeps its velocity unless a net force acts on it.
        The second law says the net force equals mass times acceleration. Force is measured
        in newtons, one newton accelerating one kilogram by one metre per second squared. The
        third law says forces come in pairs: if I push the wall, the wall pushes me back
        equally hard. Friction opposes the relative sliding of two surfaces. On an inclined
        plane we split gravity into a component along the slope and one perpendicular to it.
        The normal force balances the perpendicular component. Free body diagrams draw every
        force acting on one object as an arrow. Summing those arrows gives the acceleration
        through the second law.""",
    ),
    _topic(
        "The French Revolution",
        """In 1789 France was bankrupt after decades of war and a costly court at Versailles.
        The king summoned the Estates General to approve new taxes. The Third Estate, the
        commoners, broke away and declared itself the National Assembly. In July a Paris crowd
        stormed the Bastille, a royal fortress and prison. The Assembly abolished feudal
        privileges and issued the Declaration of the Rights of Man. The monarchy became
        constitutional, until the king's failed flight to Varennes destroyed trust in him.
        France declared war on Austria, and the radical Jacobins seized the initiative. The
        Terror followed, with revolutionary tribunals sending thousands to the guillotine.
        Robespierre himself was executed in 1794, and the Directory took power.""",
    ),
    _topic(
        "Chemical Bonding",
        """Atoms bond to reach a more stable arrangement of their outer electrons. In an ionic
        bond one atom transfers electrons to another, as sodium gives an electron to
        chlorine. The resulting ions attract each other and pack into a crystal lattice. In a
        covalent bond two atoms share a pair of electrons instead. Electronegativity measures
        how strongly an atom pulls shared electrons toward itself. When the difference is
        large, the bond is polar, as in the oxygen hydrogen bonds of water. Metallic bonding
        spreads electrons across a sea shared by the whole metal, which explains
        conductivity. Lewis structures count valence electrons to predict which atoms bond.
        Bond length shrinks and bond energy grows from single to double to triple bonds.""",
    ),
    _topic(
        "Photosynthesis",
        """Plants capture light energy in their chloroplasts. Chlorophyll in the thylakoid
        membranes absorbs red and blue light and reflects green. The light reactions split
        water, releasing oxygen, and produce ATP and NADPH. The Calvin cycle in the stroma
        spends that ATP and NADPH to fix carbon dioxide into sugar. The enzyme rubisco
        attaches carbon dioxide to a five carbon acceptor molecule. On hot dry days plants
        close their stomata to save water, which starves rubisco of carbon dioxide. C4 plants
        such as maize concentrate carbon dioxide in special bundle sheath cells. CAM plants
        like cacti open their stomata only at night. Almost all food chains on land start with
        this fixed carbon.""",
    ),
    _topic(
        "Sorting Algorithms",
        """Sorting puts a sequence into order, and the choice of algorithm matters. Insertion
        sort builds a sorted prefix by inserting each item into place, which is quadratic in
        the worst case but fast on nearly sorted input. Merge sort splits the input in half,
        sorts each half recursively, and merges the two sorted halves. Its running time is n
        log n in every case, but it needs extra memory for merging. Quicksort picks a pivot
        and partitions the items into smaller and larger groups. With random pivots it runs
        in n log n expected time and sorts in place. Any comparison sort needs at least n log
        n comparisons in the worst case. Counting sort beats that bound for small integer
        keys because it never compares items.""",
    ),
    _topic(
        "Probability Basics",
        """A probability assigns each event a number between zero and one. The sample space
        lists every possible outcome of an experiment, such as the six faces of a die. Two
        events are independent when knowing one tells you nothing about the other. For
        independent events the probability of both equals the product of their
        probabilities. Conditional probability is the chance of an event given that another
        has happened. Bayes' theorem turns the probability of evidence given a hypothesis
        into the probability of the hypothesis given the evidence. A random variable maps
        outcomes to numbers, and its expectation is the probability weighted average. The
        variance measures how far the values spread around that expectation.""",
    ),
    _topic(
        "Plate Tectonics",
        """The outer shell of the earth is broken into rigid plates that ride on the hot
        mantle. At divergent boundaries plates pull apart, and magma rises to form new ocean
        crust at mid-ocean ridges. At convergent boundaries one plate dives under another in
        a subduction zone, building volcanic arcs and deep trenches. Where two continents
        collide, neither subducts, and the crust crumples into mountain ranges like the
        Himalayas. At transform boundaries plates slide past each other, as along the San
        Andreas fault. Earthquakes cluster along all of these boundaries. Magnetic stripes on
        the sea floor record reversals of the earth's field and prove sea floor spreading.
        Plates move a few centimetres per year, about as fast as fingernails grow.""",
    ),
    _topic(
        "Neural Networks",
        """An artificial neuron computes a weighted sum of its inputs and passes it through a
        nonlinear activation function. Stacking neurons in layers gives a multilayer
        perceptron that can approximate complicated functions. Training adjusts the weights
        to reduce a loss function on labelled examples. Backpropagation computes the gradient
        of the loss with respect to every weight using the chain rule. Gradient descent then
        nudges each weight against its gradient by a small learning rate. Overfitting happens
        when the network memorises the training data and fails on new data. Regularisation,
        dropout and early stopping all fight overfitting. Convolutional layers share weights
        across an image, which suits vision tasks.""",
    ),
    _topic(
        "Shakespeare's Tragedies",
        """Shakespeare's great tragedies share a pattern of a noble hero undone by a flaw.
        Hamlet delays his revenge on the uncle who murdered his father. Macbeth is driven by
        ambition and by the prophecy of the three witches to murder King Duncan. Othello is
        destroyed by jealousy that the scheming Iago feeds with lies about Desdemona. King
        Lear divides his kingdom by flattery and banishes the daughter who truly loves him.
        Soliloquies let the audience hear the hero's private doubts. The tragedies end with
        the stage littered with bodies and order restored by an outsider. Blank verse, the
        unrhymed iambic pentameter, carries most of the dialogue.""",
    ),
    _topic(
        "Thermodynamics",
        """The first law of thermodynamics is conservation of energy: heat added to a system
        equals the change in internal energy plus the work the system does. The second law
        says the entropy of an isolated system never decreases. Heat flows on its own only
        from hot to cold bodies. A heat engine turns part of the heat from a hot reservoir
        into work and dumps the rest into a cold reservoir. The Carnot efficiency, one minus
        the ratio of the cold and hot temperatures, is the best any engine can do.
        Refrigerators run the cycle backwards, spending work to pump heat out of the cold
        side. Temperatures in these formulas must be absolute, in kelvin. The third law says
        entropy approaches a minimum as temperature approaches absolute zero.""",
    ),
)

ALL_TOPICS = DATA_STRUCTURES + CELL_BIOLOGY + MISCELLANEOUS


@dataclass
class BuiltLecture:
    """A timed transcript assembled from topic texts, with its ground truth."""

    speech: list[dict]  # [{"start", "end", "text"}], one per sentence
    topics: list[dict]  # [{"title", "start", "end", "important"}]
    slide_changes: list[float]
    duration: float


def build_lecture(
    topics: tuple[TopicText, ...] | list[TopicText],
    *,
    words_per_second: float = 2.6,
    sentence_pause: float = 0.4,
    topic_pause: float = 1.5,
    slides_per_topic: int = 2,
    repeat: int = 1,
) -> BuiltLecture:
    """Lay sentences out on a clock, like a lecturer reading at a steady pace.

    ``repeat`` cycles each topic's sentences (in a rotated order) to make long topics for
    the benchmark. Slides change at each topic start and ``slides_per_topic - 1`` times
    inside a topic, as they do in real lectures.
    """
    speech: list[dict] = []
    truth: list[dict] = []
    slides: list[float] = []
    clock = 2.0
    for topic in topics:
        clock += topic_pause
        topic_start = clock
        order = [
            s for r in range(repeat) for s in topic.sentences[r % 3 :] + topic.sentences[: r % 3]
        ]
        inner_slides = {
            round(len(order) * k / slides_per_topic) for k in range(1, slides_per_topic)
        }
        slides.append(round(topic_start - 0.5, 2))
        for i, sentence in enumerate(order):
            if i in inner_slides:
                slides.append(round(clock - sentence_pause / 2, 2))
            length = len(sentence.split()) / words_per_second
            speech.append(
                {"start": round(clock, 2), "end": round(clock + length, 2), "text": sentence}
            )
            clock += length + sentence_pause
        truth.append(
            {
                "title": topic.title,
                "start": round(topic_start, 2),
                "end": round(clock - sentence_pause, 2),
                "important": topic.important,
            }
        )
    return BuiltLecture(speech, truth, slides, duration=round(clock + 2.0, 2))


def transcript_from_speech(speech: list[dict]) -> Transcript:
    """One TranscriptSegment per spoken sentence, its words spread evenly over it.

    This stands in for a speech recogniser, so content tests need no Whisper model.
    """
    segments = []
    for item in speech:
        tokens = item["text"].split()
        step = (item["end"] - item["start"]) / max(len(tokens), 1)
        words = [
            Word(
                start=round(item["start"] + i * step, 3),
                end=round(item["start"] + (i + 1) * step, 3),
                text=t,
            )
            for i, t in enumerate(tokens)
        ]
        segments.append(TranscriptSegment(item["start"], item["end"], item["text"], 0.95, words))
    return Transcript(segments=segments, language="en", provider="ground-truth", model="speech")
