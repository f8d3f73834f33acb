"""Demo data for `make run`: staff accounts with generated passwords, and a case per staged theft,
filed through the same intake service a victim's report goes through."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from casework.extensions import db
from casework.models import AddressRole, CaseAddress, IncidentType, Role, User
from casework.services import directory, filing, labels, users
from evidence import labels as evidence_labels
from evidence.devnet import staging

DEMO_DOMAIN = "demo.example.org"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role
    password: str


def ensure_demo_staff(credentials_file: Path) -> list[DemoLogin]:
    """One account per role; passwords are generated once and kept (mode 0600) in credentials_file."""
    saved = json.loads(credentials_file.read_text()) if credentials_file.exists() else {}
    logins = []
    for role in Role:
        email = f"{role.value}@{DEMO_DOMAIN}"
        user = db.session.scalar(select(User).where(User.email == email))
        password = saved.get(email)
        if user is None or password is None:
            password = secrets.token_urlsafe(12)
            if user is None:
                users.create_user(email, password, role, f"Demo {role.title}")
            else:
                users.set_password(user, password)
        saved[email] = password
        logins.append(DemoLogin(email, role, password))
    db.session.commit()
    credentials_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(saved, handle, indent=2)
    return logins


def _when(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _phishing_report(scenario: staging.StagedScenario, theft: staging.StagedTheft) -> filing.NewReport:
    chain, token = scenario.chain_id, scenario.token
    approve, drain = theft.step("approve"), theft.step("drain")
    return filing.NewReport(
        incident_type=IncidentType.APPROVAL_PHISHING,
        reporter=filing.ReporterInput(
            name="王小明", email="wang.demo@example.org", phone="+8613800138000", country="CN",
            preferred_language="zh_Hans_CN", jurisdiction="上海市",
            consent_law_enforcement=True, consent_exchanges=True, consent_consumer_agencies=True,
        ),
        summary=(
            "我在Telegram群里看到一个领取空投的链接，用imToken打开后点了“确认”。"
            "几分钟后钱包里的全部USDT被转走了。对方地址我从交易记录里复制了。"
        ),
        incident_at=_when(approve.timestamp),
        discovered_at=_when(drain.timestamp + 20 * 60),
        victim_timezone="Asia/Shanghai",
        wallet_app="imToken",
        first_contact="Telegram group (airdrop link)",
        chain_ids=(chain,),
        losses=(filing.LossInput(chain, token.symbol, theft.stolen_token_amount, token.decimals, token.address),),
        addresses=(
            filing.AddressInput(chain, theft.address_of("victim"), AddressRole.VICTIM),
            filing.AddressInput(chain, theft.address_of("attacker"), AddressRole.ATTACKER),
        ),
        transactions=(
            filing.TransactionInput(chain, approve.tx_hash, "the approval I signed"),
            filing.TransactionInput(chain, drain.tx_hash, "my USDT leaving"),
        ),
    )


def _leaked_phrase_report(scenario: staging.StagedScenario, theft: staging.StagedTheft) -> filing.NewReport:
    chain, token = scenario.chain_id, scenario.token
    first = theft.steps[0]
    return filing.NewReport(
        incident_type=IncidentType.LEAKED_SECRET,
        reporter=filing.ReporterInput(
            name="Alex Morgan", email="alex.demo@example.org", country="GB", preferred_language="en",
            consent_law_enforcement=True, consent_exchanges=True,
        ),
        summary=(
            "Someone posing as wallet support on a chat app asked me to 'verify' my wallet on a website. "
            "I typed in my recovery phrase. Later that evening my ETH and USDT were gone. "
            "I don't know the transaction hashes."
        ),
        incident_at=_when(first.timestamp - 3 * 3600),
        discovered_at=_when(first.timestamp + 3600),
        victim_timezone="Europe/London",
        wallet_app="MetaMask",
        first_contact="Fake support agent on a chat app",
        chain_ids=(chain,),
        losses=(
            filing.LossInput(chain, token.symbol, theft.stolen_token_amount, token.decimals, token.address),
            filing.LossInput(chain, staging.NATIVE_SYMBOL, theft.stolen_native_amount, staging.NATIVE_DECIMALS),
        ),
        addresses=(filing.AddressInput(chain, theft.address_of("victim"), AddressRole.VICTIM),),
    )


REPORT_BUILDERS = {
    staging.APPROVAL_PHISHING: _phishing_report,
    staging.LEAKED_RECOVERY_PHRASE: _leaked_phrase_report,
}


# What an analyst would already know before any case: the exchange's hot wallet and the token.
# The deposit address, the attackers and the hops are left for tracing to find.
KNOWN_CATEGORIES = ("exchange_hot_wallet", "token_contract", "issuer")
DEVNET_LABEL_SOURCE = "devnet staging"


def import_devnet_labels(scenario: staging.StagedScenario) -> int:
    """Write the devnet's well-known labels to the label table; returns how many are new."""
    added, _updated = labels.upsert(
        evidence_labels.AddressLabel(scenario.chain_id, label.address.lower(), label.name, label.category,
                                     DEVNET_LABEL_SOURCE, 1.0)
        for label in scenario.labels
        if label.category in KNOWN_CATEGORIES
    )
    db.session.commit()
    return added


def load_directory() -> int:
    """The shipped directory and the devnet's staged exchange (Harbour Exchange); returns how many are new."""
    added = directory.load_shipped(demo=True).added
    db.session.commit()
    return added


def file_demo_cases(scenario: staging.StagedScenario, *, first_hour_work: bool = True) -> list[str]:
    """File a case per staged theft not filed yet, with its first-hour evidence work unless told not to; returns the
    new case references."""
    references = []
    for theft in scenario.thefts:
        if _victim_case_exists(scenario, theft):
            continue
        filed = filing.file_case(REPORT_BUILDERS[theft.kind](scenario, theft), first_hour_work=first_hour_work)
        references.append(filed.reference)
    db.session.commit()
    return references


def _victim_case_exists(scenario: staging.StagedScenario, theft: staging.StagedTheft) -> bool:
    victim = theft.address_of("victim")
    return db.session.scalar(
        select(CaseAddress.id).where(
            CaseAddress.chain_id == scenario.chain_id,
            CaseAddress.address == victim,
            CaseAddress.role == AddressRole.VICTIM,
        )
    ) is not None
