"""An in-memory chain that answers the JSON-RPC the index asks (blocks, logs, transactions), with the
protocol's real event encodings, a reorganisation on demand, and provider-style refusals of large ranges.

Testing only: the index's logic without a node (fast, and with failures a node will not produce on cue).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from link_ops.contracts import abi
from link_ops.index.catalog import event_topic
from link_ops.index.rpc import JsonRpcError, RpcTimeoutError

CHAIN_ID = 137
CUBES = to_checksum_address("0x" + "c1" * 20)
LBC = to_checksum_address("0x" + "1b" * 20)
FACTORY = to_checksum_address("0x" + "fa" * 20)
LBC_BRIDGE = to_checksum_address("0x" + "b1" * 20)
CUBE_BRIDGE = to_checksum_address("0x" + "b2" * 20)
MESSENGER = to_checksum_address("0x" + "3e" * 20)
ZERO = "0x" + "00" * 20
ALICE = to_checksum_address("0x" + "a1" * 20)
BOB = to_checksum_address("0x" + "b0" * 20)
CAROL = to_checksum_address("0x" + "ca" * 20)
CLAIM_SELECTOR = keccak(text="batchClaimRewards(uint256[])")[:4]


def _topic_of(contract: str, name: str) -> str:
    (entry,) = [e for e in abi(contract) if e.get("type") == "event" and e["name"] == name]
    return event_topic(entry)


def _word(value: Any, abi_type: str) -> str:
    return "0x" + encode([abi_type], [value]).hex()


@dataclass
class Log:
    """A log before it is in a block: emitter, topics, data, and its transaction (hash, target, input)."""

    address: str
    topics: list[str]
    data: str = "0x"
    tx_to: str | None = None
    tx_input: bytes = b""
    tx_key: str = ""


def cube_transfer(frm: str, to: str, cube_id: int, *, address: str = CUBES) -> Log:
    topics = [_topic_of("OptimizedCubeManagement", "Transfer"), _word(frm, "address"), _word(to, "address")]
    return Log(address, [*topics, _word(cube_id, "uint256")])


def lbc_transfer(
    frm: str, to: str, value: int, *, address: str = LBC, claim_of: Sequence[int] | None = None
) -> Log:
    topics = [_topic_of("LBCToken", "Transfer"), _word(frm, "address"), _word(to, "address")]
    log = Log(address, topics, "0x" + encode(["uint256"], [value]).hex())
    if claim_of is not None:
        log.tx_to = CUBES
        log.tx_input = CLAIM_SELECTOR + encode(["uint256[]"], [list(claim_of)])
    return log


def cubes_minted(to: str, tier: int, first: int, quantity: int) -> Log:
    topics = [_topic_of("OptimizedCubeManagement", "CubesMinted"), _word(to, "address"), _word(tier, "uint8")]
    return Log(CUBES, topics, "0x" + encode(["uint256", "uint256"], [first, quantity]).hex())


def partner_created(clone: str, partner_id: str, *, funded: int = 10**20, snapshot: int = 10) -> Log:
    topics = [
        _topic_of("PartnerFactory", "PartnerCreated"),
        "0x" + partner_id.encode().ljust(32, b"\0").hex(),
        _word(clone, "address"),
        _word(CAROL, "address"),
    ]
    data = encode(
        ["address", "uint256", "uint256", "uint256", "uint256"],
        [LBC, 10**18, snapshot, 2_000_000_000, funded],
    )
    return Log(FACTORY, topics, "0x" + data.hex())


def welcome_claimed(clone: str, holder: str, cubes: int, amount: int) -> Log:
    topics = [_topic_of("PartnerBenefits", "WelcomeClaimed"), _word(holder, "address")]
    return Log(clone, topics, "0x" + encode(["uint256", "uint256"], [cubes, amount]).hex())


def lbc_sent(transfer_id: bytes, dst: int, frm: str, to: str, amount: int, message_id: bytes) -> Log:
    topics = [
        _topic_of("LBCBridge", "LBCSent"),
        "0x" + transfer_id.hex(),
        _word(dst, "uint256"),
        _word(frm, "address"),
    ]
    data = encode(["address", "uint256", "bytes32"], [to, amount, message_id])
    return Log(LBC_BRIDGE, topics, "0x" + data.hex())


def cubes_sent(
    transfer_id: bytes, dst: int, frm: str, to: str, cube_ids: Sequence[int], message_id: bytes
) -> Log:
    topics = [
        _topic_of("CubeBridge", "CubesSent"),
        "0x" + transfer_id.hex(),
        _word(dst, "uint256"),
        _word(frm, "address"),
    ]
    data = encode(["address", "uint256[]", "bytes32"], [to, list(cube_ids), message_id])
    return Log(CUBE_BRIDGE, topics, "0x" + data.hex())


def transfer_held(transfer_id: bytes, src: int, payload: bytes, reason: bytes) -> Log:
    topics = [_topic_of("LBCBridge", "TransferHeld"), "0x" + transfer_id.hex(), _word(src, "uint256")]
    data = encode(["address", "bytes32", "bytes", "bytes"], [LBC_BRIDGE, b"\x11" * 32, payload, reason])
    return Log(LBC_BRIDGE, topics, "0x" + data.hex())


def lbc_received(transfer_id: bytes, src: int, to: str, amount: int) -> Log:
    topics = [
        _topic_of("LBCBridge", "LBCReceived"),
        "0x" + transfer_id.hex(),
        _word(src, "uint256"),
        _word(to, "address"),
    ]
    return Log(LBC_BRIDGE, topics, "0x" + encode(["uint256"], [amount]).hex())


def refund_sent(transfer_id: bytes, src: int, message_id: bytes) -> Log:
    topics = [_topic_of("LBCBridge", "TransferRefundSent"), "0x" + transfer_id.hex(), _word(src, "uint256")]
    return Log(LBC_BRIDGE, topics, "0x" + encode(["bytes32"], [message_id]).hex())


def refunded(transfer_id: bytes, dst: int, to: str) -> Log:
    topics = [
        _topic_of("LBCBridge", "TransferRefunded"),
        "0x" + transfer_id.hex(),
        _word(dst, "uint256"),
        _word(to, "address"),
    ]
    return Log(LBC_BRIDGE, topics)


def foreign_log(address: str) -> Log:
    """A Transfer of a contract the index does not read."""
    return lbc_transfer(ALICE, BOB, 1, address=address)


@dataclass
class Block:
    number: int
    hash: str
    parent_hash: str
    timestamp: int
    logs: list[Log] = field(default_factory=list)


Refuse = Callable[[int, int, int], Exception | None]
"""(from block, to block, logs in the answer) -> the error to raise instead of answering, or None."""


class FakeChain:
    """A chain of blocks with logs that answers ``request(method, params)`` like a node.

    `refuse` may turn any ``eth_getLogs`` into an error (provider limits); `with_timestamps` puts
    ``blockTimestamp`` into logs as anvil and some providers do. Every call is recorded in :attr:`calls`;
    the ranges of the ``eth_getLogs`` that were answered in :attr:`answered`.
    """

    def __init__(
        self, *, chain_id: int = CHAIN_ID, with_timestamps: bool = True, genesis_time: int = 1_700_000_000
    ):
        self.chain_id = chain_id
        self.with_timestamps = with_timestamps
        self.blocks: list[Block] = []
        self.refuse: Refuse | None = None
        self.calls: list[tuple[str, list[Any]]] = []
        self.answered: list[tuple[int, int]] = []
        self.before_answer: Callable[[str, list[Any]], None] | None = None
        self._salt = 0
        self._time = genesis_time
        self.mine([])

    # -- building -----------------------------------------------------------------------------------------

    def _hash(self, number: int) -> str:
        self._salt += 1
        return "0x" + keccak(text=f"block {number} salt {self._salt}").hex()

    def mine(self, logs: Sequence[Log], *, seconds: int = 12) -> Block:
        """Appends a block holding `logs` (in that order), `seconds` after the previous one."""
        number = len(self.blocks)
        parent = self.blocks[-1].hash if self.blocks else "0x" + "00" * 32
        self._time += seconds if self.blocks else 0
        block = Block(number, self._hash(number), parent, self._time, list(logs))
        self.blocks.append(block)
        return block

    def mine_many(self, count: int, make: Callable[[int], Sequence[Log]] = lambda _n: ()) -> None:
        for _ in range(count):
            self.mine(make(len(self.blocks)))

    def reorg(self, depth: int, replacement: Sequence[Sequence[Log]]) -> None:
        """Replaces the last `depth` blocks with blocks holding `replacement` (one list of logs each)."""
        del self.blocks[len(self.blocks) - depth :]
        self._time -= 12 * depth
        for logs in replacement:
            self.mine(logs, seconds=12)

    @property
    def head(self) -> int:
        return len(self.blocks) - 1

    # -- answering ----------------------------------------------------------------------------------------

    def _tx_hash(self, block: Block, position: int, log: Log) -> str:
        key = log.tx_key or f"{block.hash}:{position}"
        return "0x" + keccak(text=key).hex()

    def _log_json(self, block: Block, position: int, log: Log) -> dict[str, Any]:
        out = {
            "address": log.address.lower(),
            "topics": list(log.topics),
            "data": log.data,
            "blockNumber": hex(block.number),
            "blockHash": block.hash,
            "transactionHash": self._tx_hash(block, position, log),
            "transactionIndex": hex(position),
            "logIndex": hex(position),
            "removed": False,
        }
        if self.with_timestamps:
            out["blockTimestamp"] = hex(block.timestamp)
        return out

    def request(self, method: str, params: list[Any]) -> Any:
        self.calls.append((method, params))
        if self.before_answer is not None:
            self.before_answer(method, params)
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "eth_blockNumber":
            return hex(self.head)
        if method == "eth_getBlockByNumber":
            number = int(params[0], 16)
            if number > self.head:
                return None
            block = self.blocks[number]
            return {
                "number": hex(number),
                "hash": block.hash,
                "parentHash": block.parent_hash,
                "timestamp": hex(block.timestamp),
            }
        if method == "eth_getLogs":
            return self._get_logs(params[0])
        if method == "eth_getTransactionByHash":
            for block in self.blocks:
                for position, log in enumerate(block.logs):
                    if self._tx_hash(block, position, log) == params[0]:
                        return {
                            "hash": params[0],
                            "blockHash": block.hash,
                            "to": log.tx_to,
                            "input": "0x" + log.tx_input.hex(),
                        }
            return None
        raise JsonRpcError(method, -32601, f"the method {method} does not exist/is not available")

    def _get_logs(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        first, last = int(query["fromBlock"], 16), int(query["toBlock"], 16)
        if last > self.head:
            raise JsonRpcError(
                "eth_getLogs",
                -32602,
                f"BlockOutOfRangeError: block height is {self.head} but requested was {last}",
            )
        addresses = {a.lower() for a in query["address"]}
        assert addresses, "an empty address list matches every contract: the index must never send one"
        wanted = {t.lower() for t in query["topics"][0]}
        out = [
            self._log_json(block, position, log)
            for block in self.blocks[first : last + 1]
            for position, log in enumerate(block.logs)
            if log.address.lower() in addresses and log.topics[0].lower() in wanted
        ]
        if self.refuse is not None and (error := self.refuse(first, last, len(out))) is not None:
            raise error
        self.answered.append((first, last))
        return out


def refuse_ranges_over(limit: int, message: str, *, code: int = -32005) -> Refuse:
    """A provider that refuses ranges of more than `limit` blocks with `message`."""

    def refuse(first: int, last: int, _logs: int) -> Exception | None:
        if last - first + 1 > limit:
            return JsonRpcError("eth_getLogs", code, message.format(first=hex(first), limit=limit))
        return None

    return refuse


def refuse_results_over(limit: int, message: str) -> Refuse:
    """A provider that refuses answers of more than `limit` logs with `message` (it may name a range)."""

    def refuse(first: int, last: int, logs: int) -> Exception | None:
        if logs > limit:
            half = first + (last - first) // 2
            return JsonRpcError("eth_getLogs", -32005, message.format(first=hex(first), half=hex(half)))
        return None

    return refuse


def time_out_over(limit: int) -> Refuse:
    def refuse(first: int, last: int, _logs: int) -> Exception | None:
        if last - first + 1 > limit:
            return RpcTimeoutError("eth_getLogs to http://node/… timed out after 30 s")
        return None

    return refuse
