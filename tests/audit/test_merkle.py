"""RFC 9162 Merkle trees: reference vectors, hand-built trees, properties and forgeries.

The known answers are the RFC 6962 / Certificate Transparency test vectors. Where
a test needs an oracle it uses the small reference model below (plain hashlib
and the RFC's recursive definitions over index ranges), never the module itself.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Iterable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearing.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# --- the reference model ------------------------------------------------------------------------------------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _leaf(data: bytes) -> bytes:
    return _sha(b"\x00" + data)


def _node(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right)


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2), found the slow way."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return _sha(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(_mth(leaves[:k]), _mth(leaves[k:]))


Range = tuple[int, int]


def _path_ranges(index: int, lo: int, hi: int) -> list[Range]:
    """PATH(m, D[lo:hi]) as the index ranges of the subtrees whose roots it lists."""
    if hi - lo == 1:
        return []
    mid = lo + _split(hi - lo)
    if index < mid:
        return [*_path_ranges(index, lo, mid), (mid, hi)]
    return [*_path_ranges(index, mid, hi), (lo, mid)]


def _subproof_ranges(m: int, lo: int, hi: int, complete: bool) -> list[Range]:
    """SUBPROOF(m, D[lo:hi], b) as index ranges."""
    if m == hi - lo:
        return [] if complete else [(lo, hi)]
    k = _split(hi - lo)
    if m <= k:
        return [*_subproof_ranges(m, lo, lo + k, complete), (lo + k, hi)]
    return [*_subproof_ranges(m - k, lo + k, hi, False), (lo, lo + k)]


def _shape(lo: int, hi: int, atoms: dict[Range, object]) -> object:
    """How the root of D[lo:hi] is computed from the atoms (proof hashes, the leaf, the first root)."""
    if (lo, hi) in atoms:
        return atoms[(lo, hi)]
    assert hi - lo > 1, f"leaf {lo} is not covered by the proof"
    mid = lo + _split(hi - lo)
    return (_shape(lo, mid, atoms), _shape(mid, hi, atoms))


@functools.cache
def _inclusion_shape(index: int, size: int) -> object:
    atoms: dict[Range, object] = {r: ("proof", j) for j, r in enumerate(_path_ranges(index, 0, size))}
    atoms[(index, index + 1)] = "leaf"
    return _shape(0, size, atoms)


@functools.cache
def _consistency_shape(first: int, second: int) -> tuple[object, object]:
    assert 0 < first < second
    atoms: dict[Range, object] = {r: ("proof", j) for j, r in enumerate(_subproof_ranges(first, 0, second, True))}
    if first & (first - 1) == 0:
        atoms[(0, first)] = "first root"
    return _shape(0, first, atoms), _shape(0, second, atoms)


def _inclusion_would_verify(index: int, size: int, true_index: int, true_size: int) -> bool:
    """Whether the honest proof for (true_index, true_size), with its leaf and root, checks out
    when presented as (index, size). With distinct leaves this happens exactly when both sizes
    compute the root from the same hashes in the same arrangement; anything else is a collision."""
    if not 0 <= index < size:
        return False
    return _inclusion_shape(index, size) == _inclusion_shape(true_index, true_size)


def _substitute(shape: object, name: object, value: object) -> object:
    if shape == name:
        return value
    if isinstance(shape, tuple) and len(shape) == 2 and not isinstance(shape[0], str):
        return (_substitute(shape[0], name, value), _substitute(shape[1], name, value))
    return shape


def _consistency_would_verify(first: int, second: int, true_first: int, true_second: int) -> bool:
    """The same for the honest consistency proof of true_first < true_second (distinct leaves),
    with its two roots, presented as (first, second)."""
    if not 0 < first <= second:
        return False
    if first == second:
        return False  # the proof is not empty and the two roots differ
    true_first_root, true_second_root = _consistency_shape(true_first, true_second)
    first_root, second_root = _consistency_shape(first, second)
    # The verifier's "first root" atom is the first root it is handed, i.e. the true one.
    first_root = _substitute(first_root, "first root", true_first_root)
    second_root = _substitute(second_root, "first root", true_first_root)
    return first_root == true_first_root and second_root == true_second_root


def _flip(h: bytes, bit: int) -> bytes:
    out = bytearray(h)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


def _ceil_log2(n: int) -> int:
    return math.ceil(math.log2(n))


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


# --- reference vectors (RFC 6962 / Certificate Transparency) ------------------------------------------------------

LEAF_DATA = [
    bytes.fromhex(x)
    for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
LEAVES = [_leaf(d) for d in LEAF_DATA]

ROOTS = [
    bytes.fromhex(x)
    for x in [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]

H96A = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
H5F0 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
H6B4 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
HBC1 = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
HCA8 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
HD37 = "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
HFAC = "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
H6E3 = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
H0EB = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"

INCLUSION_VECTORS = [
    (0, 8, [H96A, H5F0, H6B4]),
    (5, 8, [HBC1, HCA8, HD37]),
    (2, 3, [HFAC]),
    (1, 5, [H6E3, H5F0, HBC1]),
]
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (1, 8, [H96A, H5F0, H6B4]),
    (6, 8, [H0EB, HCA8, HD37]),
    (2, 5, [H5F0, HBC1]),
]


def _hexes(proof: Iterable[bytes]) -> list[str]:
    return [p.hex() for p in proof]


def test_leaf_and_node_hashes_are_domain_separated_sha256() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    a, b = bytes(range(32)), bytes(range(32, 64))
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert node_hash(a, b) != node_hash(b, a)
    # A leaf whose data looks like two child hashes is still not that node.
    assert leaf_hash(a + b) != node_hash(a, b)
    assert [leaf_hash(d) for d in LEAF_DATA] == LEAVES


def test_empty_tree() -> None:
    assert EMPTY_ROOT == ROOTS[0] == hashlib.sha256(b"").digest()
    assert root([]) == EMPTY_ROOT
    frontier = Frontier()
    assert frontier.size == 0
    assert frontier.root() == EMPTY_ROOT
    assert frontier.to_bytes() == b""
    assert Frontier.from_bytes(0, b"").root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_reference_roots(size: int) -> None:
    assert root(LEAVES[:size]).hex() == ROOTS[size].hex()
    assert _mth(LEAVES[:size]) == ROOTS[size]  # the test's own model agrees with the vectors too
    frontier = Frontier()
    for leaf in LEAVES[:size]:
        frontier.append(leaf)
    assert frontier.size == size
    assert frontier.root().hex() == ROOTS[size].hex()


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_VECTORS, ids=lambda v: str(v)[:12])
def test_reference_inclusion_proofs(index: int, size: int, expected: list[str]) -> None:
    proof = inclusion_proof(index, LEAVES[:size])
    assert _hexes(proof) == expected
    assert _hexes(_mth(LEAVES[a:b]) for a, b in _path_ranges(index, 0, size)) == expected
    wire = [bytes.fromhex(h) for h in expected]
    assert verify_inclusion(index, size, LEAVES[index], wire, ROOTS[size])
    assert not verify_inclusion(index, size, LEAVES[index], wire, ROOTS[size - 1])
    assert not verify_inclusion(index, size, LEAVES[(index + 1) % size], wire, ROOTS[size])


@pytest.mark.parametrize(("first", "second", "expected"), CONSISTENCY_VECTORS, ids=lambda v: str(v)[:12])
def test_reference_consistency_proofs(first: int, second: int, expected: list[str]) -> None:
    proof = consistency_proof(first, LEAVES[:second])
    assert _hexes(proof) == expected
    assert _hexes(_mth(LEAVES[a:b]) for a, b in _subproof_ranges(first, 0, second, True)) == expected
    wire = [bytes.fromhex(h) for h in expected]
    assert verify_consistency(first, second, wire, ROOTS[first], ROOTS[second])
    if first < second:
        assert not verify_consistency(first, second, wire, ROOTS[second], ROOTS[first])
        assert not verify_consistency(first, second, wire, ROOTS[first - 1], ROOTS[second])
        assert not verify_consistency(first, second, wire, ROOTS[first], ROOTS[second - 1])


def test_reference_proofs_at_a_wrong_size_are_rejected_when_the_arrangement_changes() -> None:
    proof = [bytes.fromhex(h) for h in [HBC1, HCA8, HD37]]  # leaf 5 of 8
    assert verify_inclusion(5, 8, LEAVES[5], proof, ROOTS[8])
    assert not verify_inclusion(5, 6, LEAVES[5], proof, ROOTS[8])  # 5 of 6 has a two-hash path
    assert not verify_inclusion(5, 9, LEAVES[5], proof, ROOTS[8])  # 5 of 9 has a four-hash path
    assert not verify_inclusion(4, 8, LEAVES[5], proof, ROOTS[8])
    assert not verify_inclusion(6, 8, LEAVES[5], proof, ROOTS[8])
    consistency = [bytes.fromhex(h) for h in [H0EB, HCA8, HD37]]  # 6 -> 8
    assert verify_consistency(6, 8, consistency, ROOTS[6], ROOTS[8])
    for first, second in [(5, 8), (7, 8), (4, 8), (2, 8), (6, 9), (6, 10), (6, 6), (8, 6), (0, 8)]:
        assert not _consistency_would_verify(first, second, 6, 8), (first, second)
        assert not verify_consistency(first, second, consistency, ROOTS[6], ROOTS[8]), (first, second)


def test_a_proof_alone_does_not_pin_the_tree_size() -> None:
    """A property of RFC 9162 itself, not of this module: leaf 5's path in a tree of 8 is
    arranged exactly like its path in a tree of 7 (the last hash just stands for leaves 6..7
    rather than 6), so it also checks out as size 7 against the same root. The size a proof
    is checked at must therefore come from the signed checkpoint, never from whoever
    presents the proof."""
    proof = [bytes.fromhex(h) for h in [HBC1, HCA8, HD37]]
    assert _inclusion_would_verify(5, 7, 5, 8)
    assert verify_inclusion(5, 7, LEAVES[5], proof, ROOTS[8])
    assert not _inclusion_would_verify(5, 6, 5, 8)
    # Likewise the consistency proof from 6 to 8 combines its hashes exactly as the ones from
    # 6 to 7, 5 to 6 and 3 to 4 do, so it checks out for those sizes too.
    consistency = [bytes.fromhex(h) for h in [H0EB, HCA8, HD37]]
    for first, second in [(6, 7), (5, 6), (3, 4)]:
        assert _consistency_would_verify(first, second, 6, 8)
        assert verify_consistency(first, second, consistency, ROOTS[6], ROOTS[8]), (first, second)


# --- trees built by hand ------------------------------------------------------------------------------------------


def test_small_trees_by_hand() -> None:
    sha = hashlib.sha256
    a, b, c, d, e = (sha(b"\x00" + x).digest() for x in [b"alpha", b"bravo", b"charlie", b"delta", b"echo"])
    ab = sha(b"\x01" + a + b).digest()
    cd = sha(b"\x01" + c + d).digest()
    abcd = sha(b"\x01" + ab + cd).digest()
    expected = {
        1: a,
        2: ab,
        3: sha(b"\x01" + ab + c).digest(),
        5: sha(b"\x01" + abcd + e).digest(),
    }
    leaves = [a, b, c, d, e]
    for size, want in expected.items():
        assert root(leaves[:size]) == want, size
        frontier = Frontier()
        for leaf in leaves[:size]:
            frontier.append(leaf)
        assert frontier.root() == want, size
    assert root(leaves[:4]) == abcd
    # A few proofs by hand as well.
    assert inclusion_proof(0, leaves[:1]) == []
    assert inclusion_proof(1, leaves[:2]) == [a]
    assert inclusion_proof(2, leaves[:3]) == [ab]
    assert inclusion_proof(4, leaves) == [abcd]
    assert inclusion_proof(2, leaves) == [d, ab, e]
    assert consistency_proof(3, leaves) == [c, d, ab, e]
    assert consistency_proof(2, leaves) == [cd, e]
    assert consistency_proof(4, leaves) == [e]
    assert verify_consistency(3, 5, [c, d, ab, e], expected[3], expected[5])
    assert verify_inclusion(2, 5, c, [d, ab, e], expected[5])
    # The frontier of five leaves is the root of the first four, then the fifth.
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    assert frontier.to_bytes() == abcd + e


# --- properties ---------------------------------------------------------------------------------------------------

FEW = settings(max_examples=30, deadline=None)


@st.composite
def _trees(draw: st.DrawFn, min_size: int = 1, max_size: int = 70, distinct: bool = False) -> list[bytes]:
    """Leaf hashes. Without `distinct`, repeated leaves are common (short data), which the
    positive properties must survive; forgery tests need distinct leaves so that a mutation
    cannot be undone by an equal hash elsewhere in the tree."""
    size = draw(st.integers(min_size, max_size))
    if distinct:
        salt = draw(st.binary(max_size=4))
        return [_leaf(salt + i.to_bytes(2, "big")) for i in range(size)]
    return [_leaf(d) for d in draw(st.lists(st.binary(max_size=2), min_size=size, max_size=size))]


def _check_every_proof(leaves: list[bytes]) -> None:
    n = len(leaves)
    top = root(leaves)
    assert top == _mth(leaves)
    for index in range(n):
        proof = inclusion_proof(index, leaves)
        assert len(proof) <= _ceil_log2(n)
        if _is_power_of_two(n):
            assert len(proof) == _ceil_log2(n)
        assert verify_inclusion(index, n, leaves[index], proof, top), index
    for first in range(1, n + 1):
        proof = consistency_proof(first, leaves)
        assert len(proof) <= _ceil_log2(n) + 1
        if first == n:
            assert proof == []
        assert verify_consistency(first, n, proof, root(leaves[:first]), top), first


def _check_frontier(leaves: list[bytes]) -> None:
    frontier = Frontier()
    for size, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.size == size
        want = root(leaves[:size])
        assert frontier.root() == want, size
        data = frontier.to_bytes()
        assert len(data) == 32 * size.bit_count()
        again = Frontier.from_bytes(size, data)
        assert again.size == size
        assert again.root() == want
        assert again.to_bytes() == data
        # The restored frontier carries on exactly like the original.
        for more in range(size, len(leaves)):
            again.append(leaves[more])
        assert again.root() == root(leaves)


@FEW
@given(_trees())
def test_every_inclusion_and_consistency_proof_verifies(leaves: list[bytes]) -> None:
    _check_every_proof(leaves)


@FEW
@given(_trees())
def test_frontier_agrees_with_root_and_round_trips(leaves: list[bytes]) -> None:
    _check_frontier(leaves)


def test_every_size_up_to_70() -> None:
    """The same properties, at every size rather than the sizes hypothesis happens to pick,
    and proof generation against the RFC's definitions."""
    leaves = [_leaf(i.to_bytes(2, "big")) for i in range(70)]
    for n in range(1, 71):
        prefix = leaves[:n]
        _check_every_proof(prefix)
        for index in range(n):
            assert inclusion_proof(index, prefix) == [_mth(prefix[a:b]) for a, b in _path_ranges(index, 0, n)]
        for first in range(1, n + 1):
            assert consistency_proof(first, prefix) == [
                _mth(prefix[a:b]) for a, b in _subproof_ranges(first, 0, n, True)
            ]
    _check_frontier(leaves)


@FEW
@given(_trees(min_size=1, max_size=70))
def test_frontier_holds_one_perfect_subtree_per_set_bit_largest_first(leaves: list[bytes]) -> None:
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    n, start, parts = len(leaves), 0, []
    for bit in reversed(range(n.bit_length())):
        if n >> bit & 1:
            parts.append(_mth(leaves[start : start + (1 << bit)]))
            start += 1 << bit
    assert frontier.to_bytes() == b"".join(parts)
    assert Frontier(n, parts).root() == root(leaves)


# --- forged inclusion proofs --------------------------------------------------------------------------------------


@FEW
@given(_trees(distinct=True), st.data())
def test_mutated_inclusion_proofs_are_rejected(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    index = data.draw(st.integers(0, n - 1), label="index")
    bit = data.draw(st.integers(0, 255), label="bit")
    leaf, top = leaves[index], root(leaves)
    proof = inclusion_proof(index, leaves)
    assert verify_inclusion(index, n, leaf, proof, top)

    def rejected(i: int, size: int, lf: bytes, pf: Sequence[bytes], rt: bytes) -> bool:
        return not verify_inclusion(i, size, lf, pf, rt)

    for j in range(len(proof)):
        assert rejected(index, n, leaf, [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]], top), ("flip", j)
        assert rejected(index, n, leaf, proof[:j] + proof[j + 1 :], top), ("drop", j)
        assert rejected(index, n, leaf, [*proof[:j], proof[j][:31], *proof[j + 1 :]], top), ("short", j)
        assert rejected(index, n, leaf, [*proof[:j], proof[j] + b"\x00", *proof[j + 1 :]], top), ("long", j)
        assert rejected(index, n, leaf, [*proof[:j], b"", *proof[j + 1 :]], top), ("empty hash", j)
        if j + 1 < len(proof):
            assert proof[j] != proof[j + 1]
            swapped = [*proof[:j], proof[j + 1], proof[j], *proof[j + 2 :]]
            assert rejected(index, n, leaf, swapped, top), ("swap", j)
    for extra in [top, leaf, bytes(32), *proof[:1]]:
        assert rejected(index, n, leaf, [*proof, extra], top), "appended"
        assert rejected(index, n, leaf, [extra, *proof], top), "prepended"
        # An extra hash with the root it would lead to, were the path allowed to run past the top.
        assert rejected(index, n, leaf, [*proof, extra], node_hash(extra, top)), "appended, root to match"
    for other in range(-n - 1, n + 2):
        if other != index:
            assert rejected(other, n, leaf, proof, top), ("index", other)
    # Wrong sizes, smaller and larger: rejected unless the RFC's verifier would combine the
    # very same hashes in the very same way (see test_a_proof_alone_does_not_pin_the_tree_size).
    for size in range(0, 2 * n + 3):
        if size != n:
            want = _inclusion_would_verify(index, size, index, n)
            assert verify_inclusion(index, size, leaf, proof, top) == want, ("size", size)
    assert rejected(n, n, leaf, proof, top)
    assert rejected(index, index, leaf, proof, top)
    assert rejected(-1, n, leaf, proof, top)
    assert rejected(index, -n, leaf, proof, top)
    assert rejected(index, n, _flip(leaf, bit), proof, top)
    assert rejected(index, n, leaf_hash(leaf), proof, top)
    for other in range(n):
        if other != index:
            assert rejected(index, n, leaves[other], proof, top), ("leaf", other)
    assert rejected(index, n, leaf, proof, _flip(top, bit))
    assert rejected(index, n, leaf, proof, root([*leaves, _leaf(b"one more")]))
    if n > 1:
        assert rejected(index, n, leaf, proof, root(leaves[:-1]))
        assert rejected(index, n, leaf, [], top)


@pytest.mark.parametrize(("index", "size"), [(0, 2), (1, 2), (2, 5), (3, 5), (4, 5), (6, 7)])
def test_inclusion_hashes_must_be_exactly_32_bytes(index: int, size: int) -> None:
    """Moving bytes between the leaf and the first proof hash keeps the hashed input the same;
    only the length check on proof hashes tells the two apart."""
    leaves = LEAVES[:size]
    proof = inclusion_proof(index, leaves)
    top = root(leaves)
    leaf, first = LEAVES[index], proof[0]
    if index % 2 == 0 and index != size - 1:  # the leaf is hashed first: H(1 || leaf || sibling)
        forged_leaf, forged_first = leaf + first[:1], first[1:]
        assert node_hash(forged_leaf, forged_first) == node_hash(leaf, first)
    else:  # the sibling comes first: H(1 || sibling || leaf)
        forged_leaf, forged_first = leaf[1:], first + leaf[:1]
        assert node_hash(forged_first, forged_leaf) == node_hash(first, leaf)
    assert verify_inclusion(index, size, leaf, proof, top)
    assert not verify_inclusion(index, size, forged_leaf, [forged_first, *proof[1:]], top)


# --- forged consistency proofs ------------------------------------------------------------------------------------


@FEW
@given(_trees(min_size=2, distinct=True), st.data())
def test_mutated_consistency_proofs_are_rejected(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    m = data.draw(st.integers(1, n - 1), label="first")
    bit = data.draw(st.integers(0, 255), label="bit")
    old, new = root(leaves[:m]), root(leaves)
    proof = consistency_proof(m, leaves)
    assert proof
    assert verify_consistency(m, n, proof, old, new)

    def rejected(first: int, second: int, pf: Sequence[bytes], r1: bytes, r2: bytes) -> bool:
        return not verify_consistency(first, second, pf, r1, r2)

    for j in range(len(proof)):
        assert rejected(m, n, [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]], old, new), ("flip", j)
        assert rejected(m, n, proof[:j] + proof[j + 1 :], old, new), ("drop", j)
        assert rejected(m, n, [*proof[:j], proof[j][:31], *proof[j + 1 :]], old, new), ("short", j)
        assert rejected(m, n, [*proof[:j], proof[j] + b"\x00", *proof[j + 1 :]], old, new), ("long", j)
        if j + 1 < len(proof):
            assert proof[j] != proof[j + 1]
            swapped = [*proof[:j], proof[j + 1], proof[j], *proof[j + 2 :]]
            assert rejected(m, n, swapped, old, new), ("swap", j)
    for extra in [old, new, bytes(32), proof[0]]:
        assert rejected(m, n, [*proof, extra], old, new), "appended"
        assert rejected(m, n, [extra, *proof], old, new), "prepended"
        extended = [*proof, extra]
        assert rejected(m, n, extended, node_hash(extra, old), node_hash(extra, new)), "appended, roots to match"
        assert rejected(m, n, extended, old, node_hash(new, extra)), "appended, root to match"
    # Wrong sizes: rejected unless the verifier would combine the same hashes the same way.
    for first in range(-1, n + 2):
        if first != m:
            want = _consistency_would_verify(first, n, m, n)
            assert verify_consistency(first, n, proof, old, new) == want, ("first", first)
    for second in range(-1, 2 * n + 3):
        if second != n:
            want = _consistency_would_verify(m, second, m, n)
            assert verify_consistency(m, second, proof, old, new) == want, ("second", second)
    assert rejected(n, m, proof, old, new)  # first > second
    assert rejected(n, m, proof, new, old)
    assert rejected(0, n, proof, EMPTY_ROOT, new)
    assert rejected(0, n, [], EMPTY_ROOT, new)
    assert rejected(0, n, [new], EMPTY_ROOT, new)
    assert rejected(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    assert rejected(m, n, proof, new, old)  # swapped roots
    assert rejected(m, n, [], old, new)  # first < second needs a proof
    assert rejected(m, n, [], new, new)
    assert rejected(m, n, [], old, old)
    assert rejected(m, n, proof, _flip(old, bit), new)
    assert rejected(m, n, proof, old, _flip(new, bit))
    assert rejected(m, n, proof, root(leaves[: m + 1]), new)
    if m > 1:
        assert rejected(m, n, proof, root(leaves[: m - 1]), new)
    assert rejected(m, n, proof, old, root(leaves[:-1]))
    assert rejected(m, n, proof, old, root([*leaves, _leaf(b"one more")]))
    # Equal sizes: only the empty proof between equal roots.
    assert verify_consistency(n, n, [], new, new)
    assert rejected(n, n, [], new, old)
    assert rejected(n, n, [new], new, new)
    assert rejected(n, n, proof, new, new)
    assert rejected(m, m, [], old, new)


def _contains(shape: object, part: object) -> bool:
    if shape == part:
        return True
    return isinstance(shape, tuple) and any(_contains(s, part) for s in shape)


@pytest.mark.parametrize(("first", "second"), [(1, 2), (1, 5), (2, 3), (2, 8), (4, 5), (4, 7)])
def test_consistency_hashes_must_be_exactly_32_bytes(first: int, second: int) -> None:
    """When the first size is a power of two, the verifier hashes the first root it is handed
    side by side with the first proof hash, and compares that root with itself. Moving bytes
    between the two keeps every hashed input the same, so only the length check on proof
    hashes rejects a mis-sized "first root"."""
    assert _is_power_of_two(first)
    leaves = LEAVES[:second]
    proof = consistency_proof(first, leaves)
    old, new = root(leaves[:first]), root(leaves)
    assert verify_consistency(first, second, proof, old, new)
    c = proof[0]
    for forged_old, forged_c in [(old + c[:1], c[1:]), (old[:-1], old[-1:] + c)]:
        assert node_hash(forged_old, forged_c) == node_hash(old, c)
        assert not verify_consistency(first, second, [forged_c, *proof[1:]], forged_old, new)


@pytest.mark.parametrize(("first", "second"), [(3, 4), (3, 8), (5, 8), (6, 8), (7, 8), (3, 5), (6, 7), (5, 6)])
def test_consistency_proof_with_bytes_moved_between_its_first_hashes(first: int, second: int) -> None:
    """When the first size is not a power of two, the first two proof hashes are hashed side by
    side on the way to the second root; moving a byte from one to the other keeps that input the
    same, but the proof must still fail."""
    assert not _is_power_of_two(first)
    leaves = LEAVES[:second]
    proof = consistency_proof(first, leaves)
    old, new = root(leaves[:first]), root(leaves)
    assert verify_consistency(first, second, proof, old, new)
    assert _contains(_consistency_shape(first, second)[1], (("proof", 0), ("proof", 1)))
    a, b = proof[0], proof[1]
    for forged in [[a + b[:1], b[1:], *proof[2:]], [a[:-1], a[-1:] + b, *proof[2:]]]:
        assert node_hash(forged[0], forged[1]) == node_hash(a, b)
        assert not verify_consistency(first, second, forged, old, new)


# --- rewriting history --------------------------------------------------------------------------------------------


@FEW
@given(_trees(min_size=2, distinct=True), st.data())
def test_a_rewritten_leaf_before_the_checkpoint_cannot_be_proved_consistent(
    leaves: list[bytes], data: st.DataObject
) -> None:
    n = len(leaves)
    m = data.draw(st.integers(1, n), label="checkpoint size")
    changed = data.draw(st.integers(0, m - 1), label="rewritten leaf")
    checkpoint = root(leaves[:m])

    rewritten = list(leaves)
    rewritten[changed] = _leaf(b"rewritten " + leaves[changed])
    forged_root = root(rewritten)
    forged_proof = consistency_proof(m, rewritten)
    # The rewritten log is perfectly consistent with itself...
    assert verify_consistency(m, n, forged_proof, root(rewritten[:m]), forged_root)
    # ...but not with the checkpoint it is supposed to extend.
    assert not verify_consistency(m, n, forged_proof, checkpoint, forged_root)
    assert not verify_consistency(m, n, consistency_proof(m, leaves), checkpoint, forged_root)
    # Nor does the rewritten leaf prove into the new root where the old one was, or the old one.
    assert not verify_inclusion(changed, n, leaves[changed], inclusion_proof(changed, rewritten), forged_root)
    assert verify_inclusion(changed, n, rewritten[changed], inclusion_proof(changed, rewritten), forged_root)
    assert not verify_inclusion(changed, n, rewritten[changed], inclusion_proof(changed, rewritten), root(leaves))


@FEW
@given(_trees(min_size=2, distinct=True), st.data())
def test_changing_a_leaf_after_the_checkpoint_is_still_consistent(leaves: list[bytes], data: st.DataObject) -> None:
    """The contrast case: leaves after the checkpoint were never committed to by it."""
    n = len(leaves)
    m = data.draw(st.integers(1, n - 1), label="checkpoint size")
    changed = data.draw(st.integers(m, n - 1), label="changed leaf")
    checkpoint = root(leaves[:m])
    other = list(leaves)
    other[changed] = _leaf(b"different " + leaves[changed])
    assert verify_consistency(m, n, consistency_proof(m, other), checkpoint, root(other))


# --- input errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("index", "size"), [(-1, 3), (3, 3), (4, 3), (0, 0), (-4, 3)])
def test_inclusion_proof_of_a_leaf_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError):
        inclusion_proof(index, LEAVES[:size])


@pytest.mark.parametrize(("first", "size"), [(0, 3), (-1, 3), (4, 3), (1, 0), (0, 0), (9, 8)])
def test_consistency_proof_from_a_size_outside_the_tree(first: int, size: int) -> None:
    with pytest.raises(ValueError):
        consistency_proof(first, LEAVES[:size])


@pytest.mark.parametrize(("size", "count"), [(3, 1), (3, 3), (1, 0), (0, 1), (2, 2), (4, 2), (8, 0)])
def test_frontier_with_the_wrong_number_of_hashes(size: int, count: int) -> None:
    with pytest.raises(ValueError):
        Frontier(size, LEAVES[:count])


@pytest.mark.parametrize(("size", "length"), [(3, 32), (3, 65), (3, 96), (1, 0), (1, 31), (1, 33), (0, 32), (8, 64)])
def test_frontier_from_bytes_of_the_wrong_length(size: int, length: int) -> None:
    with pytest.raises(ValueError):
        Frontier.from_bytes(size, bytes(length))


def test_frontier_from_bytes_of_the_right_length() -> None:
    frontier = Frontier()
    for leaf in LEAVES[:7]:
        frontier.append(leaf)
    assert frontier.to_bytes() == ROOTS[4] + node_hash(LEAVES[4], LEAVES[5]) + LEAVES[6]
    assert Frontier.from_bytes(7, frontier.to_bytes()).root() == ROOTS[7]
    assert Frontier(7, [ROOTS[4], node_hash(LEAVES[4], LEAVES[5]), LEAVES[6]]).root() == ROOTS[7]


@pytest.mark.parametrize(
    "build",
    [
        lambda: Frontier(-1, [bytes(32)]),
        lambda: Frontier.from_bytes(-3, bytes(64)),
        lambda: Frontier(1, [b"short"]),
    ],
)
def test_frontier_refuses_negative_sizes_and_short_hashes(build: Callable[[], Frontier]) -> None:
    with pytest.raises(ValueError):
        build()
