// TourSpark pages' client script (loaded after admin.js): the sequence editor (form → definition JSON → PUT, the
// API's 422 issues shown next to the fields they name), subject fields that follow the channel, and the lead
// timeline's polling. No framework, no build step.
(function () {
  'use strict';

  // admin.js (loaded first) provides the JSON API call and the selectors; the flash it shows after a reload.
  var shared = window.P11Admin;
  var FLASH_KEY = shared.FLASH_KEY;
  var $ = shared.$;
  var $all = shared.$all;
  var request = shared.api;

  function flashReload(message) {
    try {
      sessionStorage.setItem(FLASH_KEY, message);
    } catch (e) {
      /* the reload still shows the new state */
    }
    location.reload();
  }

  function goToSignIn() {
    location.assign('/admin/sign-in?next=' + encodeURIComponent(location.pathname + location.search));
  }

  // ── Subject fields follow their channel (an SMS has none) ──

  function syncSubject(select, field) {
    if (!field) return;
    var email = select.value === 'email';
    field.hidden = !email;
    $all('input', field).forEach(function (input) {
      input.disabled = !email;
    });
  }

  function syncAllSubjects(root) {
    $all('[data-template-row]', root).forEach(function (row) {
      syncSubject($('[data-template="channel"]', row), $('[data-template-subject]', row));
    });
    $all('[data-staff-message]', root).forEach(function (form) {
      syncSubject($('[data-message-channel]', form), $('[data-subject-field]', form));
    });
  }

  document.addEventListener('change', function (event) {
    var el = event.target;
    if (!(el instanceof HTMLSelectElement)) return;
    if (el.matches('[data-template="channel"]')) {
      var row = el.closest('[data-template-row]');
      syncSubject(el, $('[data-template-subject]', row));
    } else if (el.matches('[data-message-channel]')) {
      syncSubject(el, $('[data-subject-field]', el.form));
    }
  });

  // New rows come from admin.js's add-row button: give their subject field its state too.
  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (target && target.closest('[data-add-row]')) setTimeout(syncAllSubjects, 0);
  });

  // ── Sequence editor ──

  function value(root, selector) {
    var el = $(selector, root);
    return el ? el.value.trim() : '';
  }

  /** The form as the definition the API validates; client-side problems (duplicate names) as issues. */
  function readSequence(form) {
    var issues = [];
    var steps = $all('[data-step-row]', form).map(function (row) {
      var id = value(row, '[data-step="id"]');
      return {
        id: id === '' ? null : Number(id),
        delay: value(row, '[data-step="delay"]'),
        action: value(row, '[data-step="action"]'),
        template: value(row, '[data-step="template"]'),
      };
    });
    var templates = {};
    $all('[data-template-row]', form).forEach(function (row) {
      var name = value(row, '[data-template="name"]');
      var channel = value(row, '[data-template="channel"]');
      var template = { channel: channel, body: $('[data-template="body"]', row).value };
      if (channel === 'email') template.subject = value(row, '[data-template="subject"]');
      if (Object.prototype.hasOwnProperty.call(templates, name)) {
        issues.push({ row: row, key: 'name', message: 'another template has this name' });
      }
      templates[name] = template;
    });
    var definition = {
      steps: steps,
      exit_conditions: $all('[data-exit-condition]', form)
        .filter(function (box) {
          return box.checked;
        })
        .map(function (box) {
          return box.value;
        }),
      templates: templates,
      quiet_hours: {
        start: value(form, '[data-sequence="quiet_hours.start"]'),
        end: value(form, '[data-sequence="quiet_hours.end"]'),
      },
      scheduler_url: value(form, '[data-sequence="scheduler_url"]'),
    };
    return { body: { enabled: $('[data-sequence="enabled"]', form).checked, definition: definition }, issues: issues };
  }

  function clearErrors(form) {
    $all('[data-error-key]', form).forEach(function (slot) {
      slot.textContent = '';
      slot.hidden = true;
    });
    $all('[aria-invalid]', form).forEach(function (el) {
      el.removeAttribute('aria-invalid');
    });
    var list = $('[data-error-list]', form);
    if (list) {
      list.textContent = '';
      list.hidden = true;
    }
    var general = $('[data-error]', form);
    if (general) general.hidden = true;
  }

  /** Shows `message` in the row's (or form's) slot for `key`; false when there is no such slot. */
  function showAt(scope, key, message) {
    var slot = $all('[data-error-key]', scope).filter(function (s) {
      return s.getAttribute('data-error-key') === key;
    })[0];
    if (!slot) return false;
    slot.textContent = slot.hidden ? message : slot.textContent + '; ' + message;
    slot.hidden = false;
    var field = slot.parentElement && $('input, select, textarea', slot.parentElement);
    if (field && key !== '') field.setAttribute('aria-invalid', 'true');
    return true;
  }

  /** Finds where an API issue (path "definition.steps.1.template") belongs and shows it there. */
  function placeIssue(form, path, message) {
    var parts = path.split('.');
    if (parts[0] === 'definition') parts.shift();
    var head = parts[0];
    if (head === 'steps' && parts.length >= 2 && /^\d+$/.test(parts[1])) {
      var stepRow = $all('[data-step-row]', form)[Number(parts[1])];
      if (stepRow) return showAt(stepRow, parts[2] || '', message) || showAt(stepRow, '', message);
    }
    if (head === 'templates' && parts.length >= 2) {
      var templateRow = $all('[data-template-row]', form).filter(function (row) {
        return value(row, '[data-template="name"]') === parts[1];
      })[0];
      if (templateRow) {
        var key = parts[2] || 'name';
        return showAt(templateRow, key, message) || showAt(templateRow, '', message);
      }
    }
    if (head === 'quiet_hours' && parts[1]) return showAt(form, 'quiet_hours.' + parts[1], message);
    if (head) return showAt(form, head, message);
    return false;
  }

  function showIssues(form, issues, summary) {
    var list = $('[data-error-list]', form);
    var unplaced = 0;
    issues.forEach(function (issue) {
      var placed = issue.row
        ? showAt(issue.row, issue.key, issue.message)
        : placeIssue(form, issue.path || '', issue.message);
      if (!placed && list) {
        var item = document.createElement('li');
        item.textContent = (issue.path ? issue.path + ': ' : '') + issue.message;
        list.appendChild(item);
        unplaced += 1;
      }
    });
    if (list) list.hidden = unplaced === 0;
    var general = $('[data-error]', form);
    if (general) {
      general.textContent = summary;
      general.hidden = false;
    }
    var first = $('[data-error-key]:not([hidden])', form);
    if (first) first.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-sequence-form')) return;
    event.preventDefault();
    clearErrors(form);
    var read = readSequence(form);
    if (read.issues.length) {
      return showIssues(form, read.issues, 'Fix the problems marked below.');
    }
    var submit = $('[type=submit]', form);
    if (submit) submit.disabled = true;
    request('PUT', form.getAttribute('data-url'), read.body).then(function (result) {
      if (submit) submit.disabled = false;
      if (result.ok) return flashReload('Sequence saved. New leads get it; running sequences keep theirs.');
      if (result.status === 401) return goToSignIn();
      var error = (result.data && result.data.error) || {};
      var issues = (error.details && error.details.issues) || [];
      if (result.status === 422 && issues.length) {
        return showIssues(
          form,
          issues,
          issues.length === 1
            ? 'The sequence has a problem, marked below.'
            : 'The sequence has ' + issues.length + ' problems, marked below.',
        );
      }
      var general = $('[data-error]', form);
      if (general) {
        general.textContent = error.message || 'The sequence could not be saved (HTTP ' + result.status + ').';
        general.hidden = false;
      }
    });
  });

  // ── Lead timeline: reload when a message or a delivery status changed ──

  function signatureOf(messages) {
    return messages
      .map(function (m) {
        return m.id + ':' + m.status + ':' + (m.intent || '');
      })
      .join(',');
  }

  function pollTimeline(list) {
    var url = list.getAttribute('data-poll-url');
    var every = Number(list.getAttribute('data-poll-every')) || 3000;
    var live = $('[data-live-status]');
    list.scrollTop = list.scrollHeight;
    function tick() {
      request('GET', url).then(function (result) {
        if (result.status === 401) return goToSignIn();
        if (!result.ok || !result.data) {
          if (live) live.textContent = 'Live updates paused; retrying…';
          return setTimeout(tick, every * 2);
        }
        var signature = signatureOf(result.data.messages || []);
        if (signature !== list.getAttribute('data-signature')) {
          var draft = $('[data-staff-message] textarea');
          if (draft && draft.value.trim() !== '') {
            if (live) live.textContent = 'New activity: reload to see it (your draft is kept until then).';
            list.setAttribute('data-stale', '');
          } else {
            return location.reload();
          }
        } else if (live) {
          live.textContent = 'Live: new messages and delivery updates appear as they arrive.';
        }
        setTimeout(tick, every);
      });
    }
    setTimeout(tick, every);
  }

  function init() {
    syncAllSubjects(document);
    $all('[data-lead-timeline][data-poll-url]').forEach(pollTimeline);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
