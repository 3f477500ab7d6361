// ReviewFlow pages' client script (loaded after admin.js): sends the pages' forms to the JSON API and shows the
// API's messages next to the fields they name; on a review, keeps a staff edit across a stale-draft refusal (the
// page reloads with the current draft and offers the edit back), marks an edited reply, and reloads the page when
// the review's workflow moves on by itself (triaging, posting, auto-posting). No framework, no build step.
(function () {
  'use strict';

  // admin.js (loaded first) provides the JSON API call and the selectors; it shows the flash after a reload.
  var shared = window.P11Admin;
  var FLASH_KEY = shared.FLASH_KEY;
  var $ = shared.$;
  var $all = shared.$all;
  var request = shared.api;
  var STALE_KEY = 'p11-review-stale:';

  function store(key, value) {
    try {
      if (value === null) sessionStorage.removeItem(key);
      else sessionStorage.setItem(key, value);
      return true;
    } catch (e) {
      return false;
    }
  }
  function take(key) {
    try {
      var value = sessionStorage.getItem(key);
      sessionStorage.removeItem(key);
      return value;
    } catch (e) {
      return null;
    }
  }

  function flashReload(message) {
    store(FLASH_KEY, message);
    location.reload();
  }

  function goToSignIn() {
    location.assign('/admin/sign-in?next=' + encodeURIComponent(location.pathname + location.search));
  }

  function errorMessage(result) {
    var error = result.data && result.data.error;
    if (error && error.message) {
      // Workflow refusals arrive as "<code>: <why>"; the code is for programs, the rest for people.
      var message = String(error.message);
      var prefix = error.code ? error.code + ': ' : null;
      if (prefix && message.indexOf(prefix) === 0) message = message.slice(prefix.length);
      return message.charAt(0).toUpperCase() + message.slice(1) + (/[.!?]$/.test(message) ? '' : '.');
    }
    if (result.status === 0) return 'The server could not be reached. Check your connection and try again.';
    if (result.status === 429) return 'Too many requests. Wait a moment and try again.';
    return 'The request failed (HTTP ' + result.status + ').';
  }

  // ── Form → JSON body ──

  /** A textarea left as the server rendered it (whitespace aside). */
  function unchanged(field) {
    return field.value.trim() === field.defaultValue.trim();
  }

  /** data-number as a number, an empty data-null-empty as null, passwords untrimmed, the rest trimmed. */
  function fieldValue(field) {
    if (field.hasAttribute('data-null-empty') && field.value.trim() === '') return null;
    if (field.hasAttribute('data-number')) return field.value.trim() === '' ? null : Number(field.value);
    return field.type === 'password' ? field.value : field.value.trim();
  }

  /** `credentials.clientId` becomes { credentials: { clientId } }. */
  function setPath(body, name, value) {
    var keys = name.split('.');
    var target = body;
    for (var i = 0; i < keys.length - 1; i++) {
      if (!target[keys[i]] || typeof target[keys[i]] !== 'object') target[keys[i]] = {};
      target = target[keys[i]];
    }
    target[keys[keys.length - 1]] = value;
  }

  /**
   * The form's fields as JSON: checkboxes as booleans, disabled fields (a read-only fieldset) skipped, empty
   * data-optional fields and unchanged data-omit-unchanged ones (an approved draft nobody edited) left out.
   */
  function formBody(form) {
    var body = {};
    $all('input[name], select[name], textarea[name]', form).forEach(function (field) {
      if (field.matches(':disabled')) return;
      if (field.type === 'checkbox') return setPath(body, field.name, field.checked);
      if (field.hasAttribute('data-optional') && field.value.trim() === '') return;
      if (field.hasAttribute('data-omit-unchanged') && unchanged(field)) return;
      setPath(body, field.name, fieldValue(field));
    });
    return body;
  }

  // ── Errors next to their fields ──

  function clearErrors(form) {
    $all('[data-error-for]', form).forEach(function (slot) {
      slot.textContent = '';
      slot.hidden = true;
    });
    $all('[aria-invalid]', form).forEach(function (el) {
      el.removeAttribute('aria-invalid');
    });
    var general = $('[data-error]', form);
    if (general) general.hidden = true;
  }

  function markInvalid(form, name) {
    $all('[name]', form).forEach(function (field) {
      if (field.name === name) field.setAttribute('aria-invalid', 'true');
    });
  }

  /** Shows `message` under field `name` (or the nearest enclosing path: credentials.x → credentials). */
  function showAt(form, name, message) {
    var parts = name.split('.');
    while (parts.length) {
      var key = parts.join('.');
      var slot = $all('[data-error-for]', form).filter(function (s) {
        return s.getAttribute('data-error-for') === key;
      })[0];
      if (slot) {
        slot.textContent = slot.hidden || !slot.textContent ? message : slot.textContent + '; ' + message;
        slot.hidden = false;
        markInvalid(form, name);
        return true;
      }
      parts.pop();
    }
    return false;
  }

  function showGeneral(form, message) {
    var general = $('[data-error]', form);
    if (general) {
      general.textContent = message;
      general.hidden = false;
    } else {
      var flash = $('#flash');
      if (flash) {
        flash.textContent = message;
        flash.classList.add('flash-error');
        flash.hidden = false;
      }
    }
  }

  /**
   * The API's error shown where it belongs: zod issues (details: [{ path, message }]) under their fields, a
   * `details.field` under that field, `details.fields` marked; anything not placed in the form's error line.
   */
  function showErrors(form, result) {
    var error = (result.data && result.data.error) || {};
    var details = error.details;
    var unplaced = [];
    var placed = 0;
    if (Array.isArray(details)) {
      details.forEach(function (issue) {
        var path = Array.isArray(issue.path) ? issue.path.join('.') : '';
        if (path && showAt(form, path, issue.message)) placed += 1;
        else unplaced.push((path ? path + ': ' : '') + issue.message);
      });
    } else if (details && typeof details.field === 'string') {
      if (showAt(form, details.field, error.message)) placed += 1;
      else unplaced.push(error.message);
    } else if (details && Array.isArray(details.fields)) {
      details.fields.forEach(function (name) {
        markInvalid(form, name);
      });
    }
    if (placed && !unplaced.length) showGeneral(form, 'Check the marked fields.');
    else if (unplaced.length && Array.isArray(details)) showGeneral(form, unplaced.join('; '));
    else showGeneral(form, errorMessage(result));
    var first = $('[data-error-for]:not([hidden])', form) || $('[data-error]:not([hidden])', form);
    if (first && first.scrollIntoView) first.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }

  /** What to do after a success, from data-then (the subset of admin.js's the ReviewFlow pages use). */
  function then(el) {
    var spec = el.getAttribute('data-then') || 'reload';
    if (spec.indexOf('flash-reload:') === 0) return flashReload(spec.slice('flash-reload:'.length) + '.');
    if (spec.indexOf('redirect:') === 0) return location.assign(spec.slice('redirect:'.length));
    location.reload();
  }

  // ── A decision the workflow refused because the draft moved on ──

  /**
   * Another person (or the workflow: a regenerate, an updated review, the auto-post) got there first. Reload to
   * show the current draft with the API's message; an edit is kept and offered back rather than lost.
   */
  function refused(form, result) {
    var reviewId = form.getAttribute('data-review-id');
    var text = $('[data-draft-text]', form);
    var edit = text && !unchanged(text) ? text.value : null;
    var saved = store(STALE_KEY + reviewId, JSON.stringify({ message: errorMessage(result), edit: edit }));
    if (!saved) return showGeneral(form, errorMessage(result) + ' Reload the page to see the current draft.');
    location.reload();
  }

  function showRefusal() {
    var page = $('[data-page="review-detail"]');
    if (!page) return;
    var raw = take(STALE_KEY + page.getAttribute('data-review-id'));
    if (!raw) return;
    var saved;
    try {
      saved = JSON.parse(raw);
    } catch (e) {
      return;
    }
    var box = document.createElement('div');
    box.className = 'stale-notice';
    box.setAttribute('data-stale-notice', '');
    box.setAttribute('role', 'alert');
    var message = document.createElement('p');
    message.textContent = saved.message + ' The page now shows the current state of the review.';
    box.appendChild(message);
    var textarea = $('[data-approve-form] [data-draft-text]');
    if (saved.edit) {
      var label = document.createElement('p');
      label.className = 'small';
      label.textContent = 'Your edit was not posted:';
      var quote = document.createElement('blockquote');
      quote.className = 'review-quote';
      quote.setAttribute('data-kept-edit', '');
      quote.textContent = saved.edit;
      box.appendChild(label);
      box.appendChild(quote);
      if (textarea) {
        var use = document.createElement('button');
        use.type = 'button';
        use.className = 'btn btn-sm';
        use.setAttribute('data-use-edit', '');
        use.textContent = 'Use my edit on the new draft';
        use.addEventListener('click', function () {
          textarea.value = saved.edit;
          textarea.dispatchEvent(new Event('input', { bubbles: true }));
          textarea.focus();
        });
        box.appendChild(use);
      }
    }
    var card = $('[data-draft-card]');
    if (card) card.insertBefore(box, card.children[1] || null);
    else page.insertBefore(box, $('.conversation-layout', page));
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-review-form')) return;
    event.preventDefault();
    clearErrors(form);
    var buttons = $all('button', form);
    buttons.forEach(function (b) {
      b.disabled = true;
    });
    request(form.getAttribute('data-method') || 'POST', form.getAttribute('data-url'), formBody(form)).then(
      function (result) {
        buttons.forEach(function (b) {
          b.disabled = false;
        });
        if (result.ok) return then(form);
        if (result.status === 401) return goToSignIn();
        if (result.status === 409 && form.hasAttribute('data-decision')) return refused(form, result);
        showErrors(form, result);
      },
    );
  });

  // ── An edited draft says so on its button ──

  document.addEventListener('input', function (event) {
    var el = event.target;
    if (!(el instanceof HTMLTextAreaElement) || !el.hasAttribute('data-draft-text')) return;
    var button = $('[data-approve]', el.form);
    if (!button) return;
    if (!button.hasAttribute('data-label')) button.setAttribute('data-label', button.textContent);
    var edited = !unchanged(el);
    button.textContent = edited ? button.getAttribute('data-edited-label') : button.getAttribute('data-label');
    el.form.toggleAttribute('data-edited', edited);
  });

  // ── The review moving on by itself ──

  /** Same as reviewSignature() in ui/pages/review-detail.tsx. */
  function signatureOf(review) {
    return [
      review.status,
      review.revision,
      review.pendingDraft ? review.pendingDraft.seq : '-',
      review.canDecide ? 'd' : '-',
      (review.replies || [])
        .map(function (p) {
          return p.status;
        })
        .join(','),
    ].join('|');
  }

  /** Someone is in the middle of something on the page: a reload would throw it away. */
  function busy() {
    var active = document.activeElement;
    if (active && (active.tagName === 'INPUT' || active.tagName === 'TEXTAREA') && active.value) return true;
    var text = $('[data-approve-form] [data-draft-text]');
    return Boolean(text && !unchanged(text));
  }

  function watch(page) {
    var url = page.getAttribute('data-poll-url');
    var every = Number(page.getAttribute('data-poll-every')) || 3000;
    var note = $('[data-live-status]', page);
    function say(text) {
      if (!note) return;
      note.textContent = text;
      note.hidden = !text;
    }
    function tick() {
      request('GET', url).then(function (result) {
        if (result.status === 401) return goToSignIn();
        if (!result.ok || !result.data || !result.data.review) {
          say('Live updates paused; retrying…');
          return setTimeout(tick, every * 2);
        }
        if (signatureOf(result.data.review) !== page.getAttribute('data-signature')) {
          if (!busy()) return location.reload();
          return say('This review changed. Reload the page to see it (what you typed stays until then).');
        }
        say('');
        setTimeout(tick, every);
      });
    }
    setTimeout(tick, every);
  }

  function init() {
    showRefusal();
    $all('[data-page="review-detail"][data-poll-url]').forEach(watch);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
