"""
One PDF from the parts Typst laid a long list out in (letters/outputs/typst.py).
The first part is kept whole (its catalogue, language, metadata and title);
each further part brings its pages, the elements of its tag tree (put under
the first part's document element), its marked-content keys (renumbered after
those before them) and its headings (in the outline beside the ones before
them). Typst tags every part alike, so the joined file is tagged as one piece
would be, and the same parts always give the same bytes. qpdf (pikepdf) does
the copying: 100,000 entries hold some 300,000 tag objects.
"""

from io import BytesIO

from pikepdf import Array, Dictionary, Name, OutlineItem, Pdf


def page_count(pdf: bytes) -> int:
    with Pdf.open(BytesIO(pdf)) as document:
        return len(document.pages)


def join_parts(parts: list[bytes]) -> bytes:
    with Pdf.open(BytesIO(parts[0])) as whole:
        tree = whole.Root.StructTreeRoot
        document = tree.K[0]  # Typst's tag tree: one Document element
        numbers = tree.ParentTree.Nums
        next_key = int(tree.ParentTreeNextKey)
        with whole.open_outline() as outline:
            for part in parts[1:]:
                with Pdf.open(BytesIO(part)) as source:
                    pages_before = len(whole.pages)
                    whole.pages.extend(source.pages)
                    for page in whole.pages[pages_before:]:
                        if Name.StructParents in page.obj:
                            page.obj.StructParents = int(page.obj.StructParents) + next_key
                    # Copied after its pages, the part's tags point at the pages just added.
                    source_tree = whole.copy_foreign(source.Root.StructTreeRoot)
                    for child in source_tree.K[0].K:
                        if isinstance(child, Dictionary):
                            child.P = document
                        document.K.append(child)
                    for key, value in number_tree(source_tree.ParentTree):
                        numbers.extend([key + next_key, value])
                    next_key += int(source_tree.ParentTreeNextKey)
                    headings_after(outline.root, outline_of(source), pages_before)
        tree.ParentTreeNextKey = next_key
        out = BytesIO()
        # Only what the file still refers to is written (not the parts' own tag roots), with an
        # identifier made from the content: the same parts, the same bytes.
        whole.save(out, deterministic_id=True)
        return out.getvalue()


def number_tree(node: Dictionary) -> list:
    """A number tree's (key, value) pairs, in order, its kids' included."""
    pairs = []
    numbers = node.get(Name.Nums, Array())
    pairs.extend((int(numbers[i]), numbers[i + 1]) for i in range(0, len(numbers), 2))
    for kid in node.get(Name.Kids, Array()):
        pairs.extend(number_tree(kid))
    return pairs


def outline_of(source: Pdf) -> list:
    """A part's headings as (depth, title, page index, its place on the page)."""
    index = {page.objgen: number for number, page in enumerate(source.pages)}
    headings = []

    def walk(items: list, depth: int) -> None:
        for item in items:
            destination = item.destination
            if isinstance(destination, Array) and len(destination) >= 2:
                place = [float(value) if value is not None else None for value in destination[2:5]]
                headings.append((depth, item.title, index.get(destination[0].objgen, 0), place))
            walk(item.children, depth + 1)

    with source.open_outline() as outline:
        walk(outline.root, 0)
    return headings


def headings_after(root: list, headings: list, pages_before: int) -> None:
    """A part's headings, its first beside the outline's last (a section of the list)."""
    if not headings:
        return
    siblings = root
    while siblings and siblings[-1].children:  # the outline's deepest last item stands beside ours
        siblings = siblings[-1].children
    levels = {headings[0][0]: siblings}
    for depth, title, page, (left, top, zoom) in headings:
        parent = levels.get(depth, siblings)
        item = OutlineItem(title, pages_before + page, "XYZ", left=left, top=top, zoom=zoom)
        parent.append(item)
        levels[depth + 1] = item.children
