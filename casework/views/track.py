"""The victim's case portal: open a case with the private link (or reference + access code), follow it, write to
the handler, add information, and download a PDF copy.

The private link /track/<reference>/<token> stores access in the session and redirects to /track/<reference>, so
the token never stays in the address bar, in page links or in a Referer. Access-log lines carrying it are redacted
(see casework.security.PrivateLinkFilter).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm

from casework.extensions import db, limiter
from casework.models import Case
from casework.services import chains, checklist, portal, victim_report
from casework.services.portal import PortalError
from casework.services.submissions import AlreadyDone
from forms.portal import (
    AddressForm,
    FileForm,
    InformationForm,
    MessageForm,
    NewLinkForm,
    TrackForm,
    TransactionForm,
    set_chain_choices,
)

bp = Blueprint("track", __name__, url_prefix=portal.PORTAL_PATH)



def _refused_message() -> str:
    # One answer for an unknown reference and a wrong token: it tells a guesser nothing.
    return _("We could not open a case with this reference and access code. Check both and try again.")


def _attempt_refused(response: Response) -> bool:
    """Only refused openings count against the limits: a victim using their link is never slowed down."""
    return bool(g.get("track_access_refused"))


def _reference_key() -> str:
    if request.view_args and "reference" in request.view_args:
        reference = portal.normalize_reference(request.view_args["reference"])
    else:
        reference = portal.parse_access(request.form.get("reference", ""), request.form.get("access_code", ""))[0]
    return f"case:{reference}"


def _per_address(methods: list[str] | None = None):
    return limiter.shared_limit(lambda: current_app.config["TRACK_RATE_LIMIT"], scope="track-open-address",
                                key_func=get_remote_address, deduct_when=_attempt_refused, methods=methods)


def _per_reference(methods: list[str] | None = None):
    return limiter.shared_limit(lambda: current_app.config["TRACK_REFERENCE_RATE_LIMIT"], scope="track-open-case",
                                key_func=_reference_key, deduct_when=_attempt_refused, methods=methods)


def _new_link_reference_key() -> str:
    return "case:" + portal.normalize_reference(request.form.get("reference", ""))


# Every request for a new link counts (each one that matches sends an e-mail and replaces the link).
_new_links_per_address = limiter.shared_limit(lambda: current_app.config["TRACK_NEW_LINK_RATE_LIMIT"],
                                              scope="track-new-link-address", key_func=get_remote_address,
                                              methods=["POST"])
_new_links_per_reference = limiter.shared_limit(lambda: current_app.config["TRACK_NEW_LINK_REFERENCE_RATE_LIMIT"],
                                                scope="track-new-link-case", key_func=_new_link_reference_key,
                                                methods=["POST"])

_posts_per_case = limiter.shared_limit(lambda: current_app.config["TRACK_POST_RATE_LIMIT"], scope="track-posts",
                                       key_func=_reference_key)


@bp.after_request
def _private(response: Response) -> Response:
    """Case pages hold personal data: no caching (shared phones, proxies), no indexing."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.route("", methods=["GET", "POST"])
@_per_address(methods=["POST"])
@_per_reference(methods=["POST"])
def start():
    form = TrackForm()
    if request.method == "GET" and request.args.get("reference"):
        form.reference.data = portal.normalize_reference(request.args["reference"])
    if form.validate_on_submit():
        reference, token = portal.parse_access(form.reference.data, form.access_code.data)
        case = portal.open_case(reference, token)
        if case is not None:
            portal.remember_access(case)
            return redirect(url_for(".case", reference=case.reference))
        g.track_access_refused = True
        form.access_code.errors.append(_refused_message())
    return render_template("web/track/start.html", form=form, remembered=portal.remembered_references())


@bp.route("/new-link", methods=["GET", "POST"])
@_new_links_per_address
@_new_links_per_reference
def new_link():
    form = NewLinkForm()
    if form.validate_on_submit():
        portal.request_new_link(form.reference.data, form.email.data)
        db.session.commit()
        # The same answer whether or not the reference exists and the address matches.
        flash(_("If this reference and e-mail address belong to a case, a new private link is on its way to that "
                "address. It replaces the old link, which no longer works. If nothing arrives within a few minutes, "
                "check your spam folder and the reference, then ask again."))
        return redirect(url_for(".start"))
    return render_template("web/track/new_link.html", form=form)


@bp.get("/<reference>/<token>")
@_per_address()
@_per_reference()
def private_link(reference: str, token: str):
    case = portal.open_case(reference, token)
    if case is None:
        g.track_access_refused = True
        flash(_refused_message(), "error")
        return redirect(url_for(".start", reference=portal.normalize_reference(reference)))
    portal.remember_access(case)
    return redirect(url_for(".case", reference=case.reference))


def _session_case(reference: str) -> Case:
    """The case if this session opened it; otherwise the visitor is sent to the tracking form."""
    case = portal.case_in_session(reference)
    if case is None:
        abort(redirect(url_for(".start", reference=portal.normalize_reference(reference))))
    return case


def _chain_choices() -> list[tuple[int, str]]:
    return [(chain.chain_id, chain.name) for chain in chains.registry()]


_PREFIXES = {MessageForm: "message", InformationForm: "info", AddressForm: "address", TransactionForm: "tx",
             FileForm: "file"}


def _forms(case: Case, submitted: FlaskForm | None = None) -> dict[str, FlaskForm]:
    """Every form of the case page: the one just submitted (with its input and errors) and fresh others."""
    forms = {
        "message_form": MessageForm, "information_form": InformationForm, "address_form": AddressForm,
        "transaction_form": TransactionForm, "file_form": FileForm,
    }
    built = {}
    for name, form_class in forms.items():
        if isinstance(submitted, form_class):
            built[name] = submitted
        else:
            built[name] = form_class(formdata=None, prefix=_PREFIXES[form_class])
    default_chain = case.chain_ids[0] if case.chain_ids else None
    for name in ("address_form", "transaction_form"):
        set_chain_choices(built[name], _chain_choices(), default_chain)
    return built



def _render_case(case: Case, submitted: FlaskForm | None = None, status: int = 200):
    return render_template(
        "web/track/case.html", report=victim_report.build_victim_report(case), actions=checklist.for_case(case),
        findings=victim_report.victim_findings(case), **_forms(case, submitted)
    ), status


@bp.get("/<reference>")
def case(reference: str):
    found = _session_case(reference)
    return _render_case(found)


def _submit(reference: str, form_class: type[FlaskForm], field: str, add, done_message: str, anchor: str):
    """Validate one case-page form and hand its data to `add`; on an error, show the page again with the input
    and the message under `field`."""
    found = _session_case(reference)
    form = form_class(prefix=_PREFIXES[form_class])
    if isinstance(form, AddressForm | TransactionForm):
        set_chain_choices(form, _chain_choices(), None)
    if form.validate_on_submit():
        try:
            add(found, form)
        except AlreadyDone as done_before:
            db.session.rollback()
            flash(done_before.message)
            return redirect(url_for(".case", reference=found.reference, _anchor=anchor))
        except PortalError as error:
            db.session.rollback()
            form[field].errors.append(error.message)
        else:
            db.session.commit()
            flash(done_message)
            return redirect(url_for(".case", reference=found.reference, _anchor=anchor))
    return _render_case(found, form, 422)


@bp.post("/<reference>/messages")
@_posts_per_case
def send_message(reference: str):
    return _submit(reference, MessageForm, "body",
                   lambda case, form: portal.send_victim_message(case, form.body.data, once=form.once.data),
                   _("Your message was sent. Your case handler will answer here."), "messages")


@bp.post("/<reference>/information")
@_posts_per_case
def add_information(reference: str):
    return _submit(reference, InformationForm, "text",
                   lambda case, form: portal.add_information(case, form.text.data, once=form.once.data),
                   _("Thank you: the information was added to your case."), "add")


@bp.post("/<reference>/addresses")
@_posts_per_case
def add_address(reference: str):
    return _submit(
        reference, AddressForm, "address",
        lambda case, form: portal.add_address(case, form.chain_id.data, form.address.data, form.role.data,
                                              form.label.data or ""),
        _("The address was added to your case."), "add",
    )


@bp.post("/<reference>/transactions")
@_posts_per_case
def add_transaction(reference: str):
    return _submit(
        reference, TransactionForm, "tx_hash",
        lambda case, form: portal.add_transaction(case, form.chain_id.data, form.tx_hash.data, form.note.data or ""),
        _("The transaction was added to your case."), "add",
    )


@bp.post("/<reference>/files")
@_posts_per_case
def add_file(reference: str):
    return _submit(reference, FileForm, "file", lambda case, form: portal.add_file(case, form.file.data),
                   _("The file was added to your case."), "add")


@bp.get("/<reference>/report.pdf")
@_posts_per_case  # each copy costs a PDF rendering and a log entry
def report_pdf(reference: str):
    found = _session_case(reference)
    pdf = victim_report.render_victim_copy(found)
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{found.reference}.pdf"'
    return response


@bp.post("/<reference>/forget")
def forget(reference: str):
    portal.forget_access(reference)  # CSRF was checked before the view ran
    flash(_("This device no longer opens your case without your private link."))
    return redirect(url_for(".start"))


