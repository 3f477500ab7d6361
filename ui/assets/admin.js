// P11 Console admin UI client script: sends forms and buttons to the JSON API (same origin, session cookie),
// runs the property switcher, shows one-time secrets, and localizes timestamps. No framework, no build step.
(function () {
  'use strict';

  var FLASH_KEY = 'p11-flash';
  var AUTO_REFRESH_KEY = 'p11-auto-refresh';

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }
  function $all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  /** Calls the JSON API; resolves to { ok, status, data } and never throws for HTTP errors. */
  function api(method, url, body) {
    var init = { method: method, credentials: 'same-origin', headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(
      function (res) {
        return res.text().then(function (text) {
          var data = null;
          try {
            data = text ? JSON.parse(text) : null;
          } catch (e) {
            data = null;
          }
          return { ok: res.ok, status: res.status, data: data };
        });
      },
      function () {
        return { ok: false, status: 0, data: null };
      },
    );
  }

  function errorMessage(result) {
    if (result.data && result.data.error && result.data.error.message) return result.data.error.message;
    if (result.status === 0) return 'The server could not be reached. Check your connection and try again.';
    if (result.status === 429) return 'Too many requests. Wait a moment and try again.';
    return 'The request failed (HTTP ' + result.status + ').';
  }

  function goToSignIn() {
    var next = location.pathname + location.search;
    location.assign('/admin/sign-in?next=' + encodeURIComponent(next));
  }

  // Flash messages survive one reload through sessionStorage.
  function flash(message, isError) {
    var el = $('#flash');
    if (!el) return;
    el.textContent = message;
    el.classList.toggle('flash-error', Boolean(isError));
    el.hidden = false;
  }
  function flashAfterReload(message) {
    try {
      sessionStorage.setItem(FLASH_KEY, message);
    } catch (e) {
      /* storage unavailable: the reload still shows the new state */
    }
    location.reload();
  }
  function showStoredFlash() {
    var message = null;
    try {
      message = sessionStorage.getItem(FLASH_KEY);
      sessionStorage.removeItem(FLASH_KEY);
    } catch (e) {
      message = null;
    }
    if (message) flash(message, false);
  }

  /** Shows a value (API key, signing secret) once, in a modal; the page reloads when it is closed. */
  function reveal(title, value, note) {
    var dialog = $('#reveal');
    if (!dialog || typeof dialog.showModal !== 'function') {
      window.prompt(title + ' (shown only once):', value);
      location.reload();
      return;
    }
    $('[data-reveal-title]', dialog).textContent = title;
    $('[data-reveal-value]', dialog).textContent = value;
    var noteEl = $('[data-reveal-note]', dialog);
    noteEl.textContent = note || '';
    noteEl.hidden = !note;
    dialog.addEventListener('close', function () {
      location.reload();
    });
    dialog.showModal();
  }

  function pick(data, path) {
    return path.split('.').reduce(function (value, key) {
      return value && typeof value === 'object' ? value[key] : undefined;
    }, data);
  }

  /** What to do after a successful call, from the element's data-then. */
  function then(el, result) {
    var spec = el.getAttribute('data-then') || 'reload';
    var data = result.data || {};
    if (spec === 'reload') return location.reload();
    if (spec.indexOf('redirect:') === 0) return location.assign(spec.slice('redirect:'.length));
    if (spec.indexOf('redirect-to:') === 0) {
      // "{path.in.answer}" placeholders are filled from the API's answer, URL-encoded.
      var missing = false;
      var target = spec.slice('redirect-to:'.length).replace(/\{([\w.]+)\}/g, function (_, path) {
        var value = pick(data, path);
        if (value === undefined || value === null) missing = true;
        return encodeURIComponent(String(value));
      });
      return missing ? location.reload() : location.assign(target);
    }
    if (spec.indexOf('reveal:') === 0) {
      var field = spec.slice('reveal:'.length);
      var value = pick(data, field);
      var note = null;
      if (data.previousSecretExpiresAt) {
        note =
          'The previous secret keeps signing deliveries until ' +
          new Date(data.previousSecretExpiresAt).toLocaleString() +
          '.';
      }
      if (typeof value !== 'string') return location.reload();
      return reveal(el.getAttribute('data-reveal-title') || 'Copy this value now', value, note);
    }
    if (spec.indexOf('flash-reload:') === 0) {
      var message = spec.slice('flash-reload:'.length);
      if (data.eventId) message += ' (' + data.eventId + ')';
      return flashAfterReload(message + '.');
    }
    if (spec === 'open-delivery') {
      var id = pick(data, 'delivery.id') || data.deliveryId || data.id;
      if (id) return location.assign('/admin/webhooks/deliveries/' + encodeURIComponent(id));
      return location.reload();
    }
    location.reload();
  }

  /** A field's value: data-number as a number, an empty data-null-empty as null, passwords untrimmed. */
  function fieldValue(field) {
    if (field.hasAttribute('data-null-empty') && field.value === '') return null;
    if (field.hasAttribute('data-number')) return field.value.trim() === '' ? null : Number(field.value);
    return field.type === 'password' ? field.value : field.value.trim();
  }

  /** Sets `a.b.c` as nested objects, so `credentials.accessToken` becomes { credentials: { accessToken } }. */
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
   * A form's fields as a JSON object: data-array checkboxes become arrays, empty data-optional fields are left
   * out, disabled fields (another channel's credentials) are skipped, and each data-rows container becomes an
   * array of objects keyed by its rows' data-key fields (rows left blank are dropped).
   */
  function formBody(form) {
    var body = {};
    $all('input[name], select[name], textarea[name]', form).forEach(function (field) {
      var name = field.name;
      if (field.matches(':disabled') || field.type === 'file') return;
      if (field.hasAttribute('data-array')) {
        if (!Array.isArray(body[name])) body[name] = [];
        if (field.checked) body[name].push(field.value);
        return;
      }
      if (field.type === 'checkbox') {
        setPath(body, name, field.checked);
        return;
      }
      if (field.hasAttribute('data-optional') && field.value.trim() === '') return;
      setPath(body, name, fieldValue(field));
    });
    $all('[data-rows]', form).forEach(function (container) {
      var rows = [];
      $all('[data-row]', container).forEach(function (row) {
        var item = {};
        var blank = true;
        $all('[data-key]', row).forEach(function (field) {
          item[field.getAttribute('data-key')] = fieldValue(field);
          if (field.tagName === 'INPUT' && field.value.trim() !== '') blank = false;
        });
        if (!blank) rows.push(item);
      });
      setPath(body, container.getAttribute('data-rows'), rows);
    });
    return body;
  }

  /** A file-upload form as multipart/form-data (the browser sets the boundary); empty optional fields left out. */
  function formData(form) {
    var data = new FormData();
    $all('input[name], select[name], textarea[name]', form).forEach(function (field) {
      if (field.matches(':disabled')) return;
      if (field.type === 'file') {
        if (field.files && field.files[0]) data.append(field.name, field.files[0], field.files[0].name);
        return;
      }
      if (field.value === '') return;
      data.append(field.name, field.value);
    });
    return data;
  }

  function upload(url, data, method) {
    return fetch(url, {
      method: method || 'POST',
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
      body: data,
    }).then(
      function (res) {
        return res.text().then(function (text) {
          var parsed = null;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch (e) {
            parsed = null;
          }
          return { ok: res.ok, status: res.status, data: parsed };
        });
      },
      function () {
        return { ok: false, status: 0, data: null };
      },
    );
  }

  function showError(container, message) {
    var el = container ? $('[data-error]', container) : null;
    if (el) {
      el.textContent = message;
      el.hidden = false;
    } else {
      flash(message, true);
      window.scrollTo({ top: 0, behavior: 'smooth' });
    }
  }

  function isSignIn(el) {
    return el.getAttribute('data-url') === '/v1/auth/sign-in';
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-api-form')) return;
    event.preventDefault();
    var submit = $('[type=submit]', form);
    var errorEl = $('[data-error]', form);
    if (errorEl) errorEl.hidden = true;
    if (submit) submit.disabled = true;
    var tooBig = form.hasAttribute('data-multipart') ? oversizedFile(form) : null;
    if (tooBig) {
      if (submit) submit.disabled = false;
      return showError(form, tooBig);
    }
    var request = form.hasAttribute('data-multipart')
      ? upload(form.getAttribute('data-url'), formData(form), form.getAttribute('data-method'))
      : api(form.getAttribute('data-method') || 'POST', form.getAttribute('data-url'), formBody(form));
    request.then(function (result) {
      if (submit) submit.disabled = false;
      if (result.ok) return then(form, result);
      if (result.status === 401 && !isSignIn(form)) return goToSignIn();
      showError(form, errorMessage(result));
    });
  });

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;

    var action = target.closest('[data-api-action]');
    if (action) {
      event.preventDefault();
      var question = action.getAttribute('data-confirm');
      if (question && !window.confirm(question)) return;
      var raw = action.getAttribute('data-body');
      action.disabled = true;
      api(
        action.getAttribute('data-method') || 'POST',
        action.getAttribute('data-url'),
        raw ? JSON.parse(raw) : undefined,
      ).then(function (result) {
        action.disabled = false;
        if (result.ok) return then(action, result);
        if (result.status === 401) return goToSignIn();
        showError(null, errorMessage(result));
      });
      return;
    }

    var addRow = target.closest('[data-add-row]');
    if (addRow) {
      var list = addRow.getAttribute('data-add-row');
      var scope = addRow.closest('form') || document;
      var template = $('template[data-row-template="' + list + '"]', scope);
      var rows = $('[data-rows="' + list + '"]', scope);
      if (template && rows) {
        rows.appendChild(template.content.cloneNode(true));
        var inputs = $all('[data-row]:last-child input', rows);
        if (inputs[0]) inputs[0].focus();
      }
      return;
    }

    var removeRow = target.closest('[data-remove-row]');
    if (removeRow) {
      var rowEl = removeRow.closest('[data-row]');
      if (rowEl) rowEl.remove();
      return;
    }

    if (target.closest('[data-sign-out]')) {
      api('POST', '/v1/auth/sign-out').then(function () {
        location.assign('/admin/sign-in?signed-out=1');
      });
      return;
    }

    if (target.closest('[data-copy]')) {
      var value = $('[data-reveal-value]').textContent;
      var button = target.closest('[data-copy]');
      var done = function () {
        button.textContent = 'Copied';
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(value).then(done, function () {
          selectText($('[data-reveal-value]'));
        });
      } else {
        selectText($('[data-reveal-value]'));
      }
      return;
    }

    if (target.closest('[data-reveal-done]')) {
      $('#reveal').close();
    }
  });

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener('change', function (event) {
    var el = event.target;
    if (!(el instanceof HTMLElement)) return;

    if (el.hasAttribute('data-property-switcher')) {
      el.disabled = true;
      api('PUT', '/v1/me/property', { propertyId: el.value || null }).then(function (result) {
        if (result.ok) return location.reload();
        el.disabled = false;
        if (result.status === 401) return goToSignIn();
        flash(errorMessage(result), true);
      });
      return;
    }

    if (el.hasAttribute('data-channel-select')) {
      showChannel(el);
      return;
    }

    if (el.hasAttribute('data-api-change')) {
      var previous = el.getAttribute('data-previous');
      if (previous === null) previous = el.defaultValue;
      var body = {};
      body[el.getAttribute('data-field')] = fieldValue(el);
      el.disabled = true;
      api(el.getAttribute('data-method') || 'PATCH', el.getAttribute('data-url'), body).then(function (result) {
        el.disabled = false;
        if (result.ok) return then(el, result);
        if (result.status === 401) return goToSignIn();
        if (previous !== undefined && previous !== null) el.value = previous;
        flash(errorMessage(result), true);
      });
      return;
    }

    if (el.hasAttribute('data-autosubmit') && el.form) {
      el.form.submit();
      return;
    }

    if (el.hasAttribute('data-auto-refresh')) {
      try {
        localStorage.setItem(AUTO_REFRESH_KEY, el.checked ? '1' : '0');
      } catch (e) {
        /* not persisted */
      }
      scheduleRefresh(el);
    }
  });

  /** Shows the chosen channel's credential fields (the others disabled, so they are not sent) and its defaults. */
  function showChannel(select) {
    var form = select.form;
    if (!form) return;
    var channel = select.value;
    $all('[data-channel-fields]', form).forEach(function (fieldset) {
      var active = fieldset.getAttribute('data-channel-fields') === channel;
      fieldset.disabled = !active;
      fieldset.hidden = !active;
    });
    var option = select.selectedOptions[0];
    if (!option) return;
    var label = $('[data-account-label]:not(option)', form);
    if (label) label.textContent = option.getAttribute('data-account-label');
    var lookback = $('[data-lookback-input]', form);
    if (lookback) lookback.value = option.getAttribute('data-lookback');
  }

  var TONES = { running: 'info', completed: 'success', failed: 'danger', timed_out: 'danger', terminated: 'danger' };

  /**
   * A running sync or backfill: polls GET /v1/workflows/:id every data-poll ms and renders progress.percent
   * (with months done/total), until the run closes; then the page reloads to list its runs.
   */
  function pollProgress(panel) {
    var every = Number(panel.getAttribute('data-poll')) || 2000;
    var url = panel.getAttribute('data-workflow-url');
    var bar = $('[data-progress-bar]', panel);
    var percentEl = $('[data-progress-percent]', panel);
    var detail = $('[data-progress-detail]', panel);
    var badge = $('.badge[data-status]', panel);
    function render(workflow) {
      var p = workflow.progress;
      var status = String(workflow.status || '').toLowerCase();
      var percent = p && typeof p.percent === 'number' ? p.percent : status === 'completed' ? 100 : null;
      if (percent === null) bar.removeAttribute('value');
      else bar.value = percent;
      percentEl.textContent = percent === null ? '' : Math.round(percent) + '%';
      panel.setAttribute('data-status', workflow.status);
      if (badge) {
        badge.textContent = status.replace(/_/g, ' ');
        badge.setAttribute('data-status', status);
        badge.className = 'badge badge-' + (TONES[status] || 'neutral');
      }
      if (p) {
        var parts = [];
        if (typeof p.monthsTotal === 'number') {
          var months = (p.monthsDone || 0) + ' of ' + p.monthsTotal + ' months done';
          if (p.monthsRunning) months += ', ' + p.monthsRunning + ' running';
          if (p.monthsFailed) months += ', ' + p.monthsFailed + ' failed';
          parts.push(months);
        } else {
          parts.push(
            (p.pages || 0).toLocaleString('en-US') +
              ' pages, ' +
              (p.rowsFetched || 0).toLocaleString('en-US') +
              ' rows fetched',
          );
        }
        if (typeof p.factsUpserted === 'number')
          parts.push(p.factsUpserted.toLocaleString('en-US') + ' facts upserted');
        detail.textContent = parts.join(' · ');
      } else if (status !== 'running') {
        // A closed run answers no progress query: say how it ended instead of keeping the last counts.
        detail.textContent =
          (status === 'completed' ? 'Finished' : 'Ended: ' + status.replace(/_/g, ' ')) +
          '. Reloading to list its runs…';
      }
      return status;
    }
    function tick() {
      api('GET', url).then(function (result) {
        if (result.status === 401) return goToSignIn();
        if (!result.ok || !result.data || !result.data.workflow) {
          detail.textContent = errorMessage(result);
          return setTimeout(tick, every);
        }
        var status = render(result.data.workflow);
        if (status === 'running') return setTimeout(tick, every);
        panel.removeAttribute('data-poll');
        panel.setAttribute('data-finished', '');
        // Let the final state show, then reload so the runs it wrote are listed.
        var kind = panel.getAttribute('data-kind') || 'Run';
        setTimeout(function () {
          flashAfterReload(
            status === 'completed' ? kind + ' finished.' : kind + ' ended: ' + status.replace(/_/g, ' ') + '.',
          );
        }, 1000);
      });
    }
    setTimeout(tick, every);
  }

  var refreshTimer = null;
  function scheduleRefresh(box) {
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = null;
    if (!box.checked) return;
    var seconds = Number(box.getAttribute('data-auto-refresh')) || 10;
    refreshTimer = setTimeout(function () {
      // Never throw away what someone is typing or a secret on screen.
      if ($('#reveal[open]') || document.activeElement instanceof HTMLInputElement) return scheduleRefresh(box);
      location.reload();
    }, seconds * 1000);
  }

  // ── LumaLeasing ─────────────────────────────────────────────────────────────────────────────────────────

  /** A chosen file over the form's data-max-bytes is refused here, before uploading megabytes the API refuses. */
  function oversizedFile(form) {
    var message = null;
    $all('input[type=file][data-max-bytes]', form).forEach(function (input) {
      var max = Number(input.getAttribute('data-max-bytes'));
      var file = input.files && input.files[0];
      if (!message && file && max && file.size > max) {
        message = file.name + ' is ' + formatBytes(file.size) + '; documents may be at most ' + formatBytes(max) + '.';
      }
    });
    return message;
  }

  function formatBytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1).replace(/\.0$/, '') + ' KB';
    return (n / (1024 * 1024)).toFixed(1).replace(/\.0$/, '') + ' MB';
  }

  var preciseTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /** "Pet Policy, p. 2" (lumaleasing-common.tsx citationLabel). */
  function citationLabel(c) {
    return c.page === null || c.page === undefined ? c.title : c.title + ', p. ' + c.page;
  }

  var ROLE_LABELS = { visitor: 'Visitor', assistant: 'Assistant', staff: 'Staff', system: 'System' };

  /** One transcript line, the same markup as lumaleasing-common.tsx <Message>. Text only, never HTML. */
  function renderMessage(m, visitorName) {
    var li = el('li', 'msg msg-' + m.role + (m.declined ? ' msg-declined' : ''));
    li.setAttribute('data-seq', String(m.seq));
    li.setAttribute('data-role', m.role);
    var meta = el('div', 'msg-meta');
    var author = m.role === 'visitor' ? visitorName || 'Visitor' : ROLE_LABELS[m.role];
    meta.appendChild(el('span', 'msg-author', author || m.role));
    if ((m.role === 'assistant' || m.role === 'staff') && m.author) meta.appendChild(el('span', 'msg-via', m.author));
    var date = new Date(m.createdAt);
    if (!isNaN(date.getTime())) {
      var time = el('time', null, preciseTime.format(date));
      time.setAttribute('datetime', date.toISOString());
      meta.appendChild(time);
    }
    if (m.declined) {
      var badge = el('span', 'badge badge-warning', 'Declined');
      badge.setAttribute('data-declined', '');
      badge.title = 'Nothing in the documents answered this';
      meta.appendChild(badge);
    }
    li.appendChild(meta);
    li.appendChild(el('div', 'msg-body', m.content));
    if (m.citations && m.citations.length) {
      var list = el('ol', 'citations');
      list.setAttribute('aria-label', 'Sources');
      m.citations.forEach(function (c) {
        var item = el('li', 'citation');
        item.setAttribute('data-citation', '');
        item.setAttribute('data-document-id', c.documentId);
        if (typeof c.similarity === 'number') item.title = 'Similarity ' + c.similarity.toFixed(2);
        item.appendChild(el('span', 'citation-ref', '[' + c.ref + ']'));
        item.appendChild(document.createTextNode(' ' + citationLabel(c)));
        list.appendChild(item);
      });
      li.appendChild(list);
    }
    return li;
  }

  /** Inserts messages in seq order, skipping ones already shown; true when one of them was the visitor's. */
  function addMessages(list, messages) {
    var visitorName = list.getAttribute('data-visitor-name') || null;
    var nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    var visitorArrived = false;
    var added = false;
    messages
      .slice()
      .sort(function (a, b) {
        return a.seq - b.seq;
      })
      .forEach(function (m) {
        if ($('[data-seq="' + m.seq + '"]', list)) return;
        var next = $all('[data-seq]', list).filter(function (li) {
          return Number(li.getAttribute('data-seq')) > m.seq;
        })[0];
        list.insertBefore(renderMessage(m, visitorName), next || null);
        if (m.role === 'visitor') visitorArrived = true;
        added = true;
      });
    if (added) {
      var empty = $('[data-transcript-empty]');
      if (empty) empty.remove();
      if (nearBottom) list.scrollTop = list.scrollHeight;
    }
    return visitorArrived;
  }

  /**
   * The open conversation: polls GET .../messages?after=<seq> every 2 s and appends what arrived (visitor
   * messages, the assistant's answers, colleagues' replies) without reloading. Reading it marks it read.
   */
  function pollTranscript(list) {
    var every = Number(list.getAttribute('data-poll-every')) || 2000;
    var url = list.getAttribute('data-poll-url');
    var readUrl = list.getAttribute('data-read-url');
    var section = list.closest('[data-mode]');
    var live = $('[data-live-status]');
    var after = Number(list.getAttribute('data-after'));
    list.scrollTop = list.scrollHeight;

    function markRead() {
      if (!readUrl) return;
      api('POST', readUrl).then(function (result) {
        if (result.ok) list.setAttribute('data-read', '');
      });
    }
    if (Number(list.getAttribute('data-unread')) > 0) markRead();
    else if (readUrl) list.setAttribute('data-read', '');

    /** Someone else took over or handed back: the buttons and reply box are stale, so redraw them. */
    function modeChanged(mode) {
      if (!section || !mode || mode === section.getAttribute('data-mode')) return;
      section.setAttribute('data-mode', mode);
      var box = $('[data-reply-form] textarea');
      if (box && box.value.trim() !== '') {
        live.textContent = 'This conversation changed hands. Reload to see who answers now.';
        live.classList.add('warning-text');
        return;
      }
      flashAfterReload(mode === 'staff' ? 'Staff took this conversation over.' : 'Handed back to the assistant.');
    }

    function tick() {
      api('GET', url + '?after=' + encodeURIComponent(String(after))).then(function (result) {
        if (result.status === 401) return goToSignIn();
        if (!result.ok || !result.data) {
          live.textContent = 'Live updates paused (' + errorMessage(result) + '). Retrying…';
          live.classList.add('warning-text');
          return setTimeout(tick, every * 2);
        }
        live.textContent = 'Live: new messages appear as they arrive.';
        live.classList.remove('warning-text');
        var messages = result.data.messages || [];
        messages.forEach(function (m) {
          if (m.seq > after) after = m.seq;
        });
        list.setAttribute('data-after', String(after));
        if (addMessages(list, messages)) markRead();
        var mode = result.data.mode || (result.data.conversation && result.data.conversation.mode);
        modeChanged(mode);
        setTimeout(tick, every);
      });
    }
    setTimeout(tick, every);
  }

  /** Staff reply: sent as JSON, shown at once from the API's answer (polling skips it by seq). */
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-reply-form')) return;
    event.preventDefault();
    var box = $('textarea', form);
    var submit = $('[type=submit]', form);
    var errorEl = $('[data-error]', form);
    var text = box.value.trim();
    if (!text) return box.focus();
    if (errorEl) errorEl.hidden = true;
    submit.disabled = true;
    box.readOnly = true;
    api('POST', form.getAttribute('data-url'), { text: text }).then(function (result) {
      submit.disabled = false;
      box.readOnly = false;
      if (result.status === 401) return goToSignIn();
      if (!result.ok) return showError(form, errorMessage(result));
      box.value = '';
      var list = $('[data-transcript]');
      var message = result.data && (result.data.message || result.data);
      if (list && message && typeof message.seq === 'number') {
        addMessages(list, [message]);
        list.scrollTop = list.scrollHeight;
      }
      box.focus();
    });
  });

  document.addEventListener('keydown', function (event) {
    var box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || !box.closest('[data-reply-form]')) return;
    // Enter sends, Shift+Enter breaks the line; never while an input method is composing.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      box.form.requestSubmit();
    }
  });

  var STAGES = {
    extracting: 'Extracting text',
    embedding: 'Embedding',
    publishing: 'Publishing',
    ready: 'Ready',
    failed: 'Failed',
    superseded: 'Superseded',
  };
  var DOC_TONES = { pending: 'info', processing: 'info', ready: 'success', failed: 'danger', superseded: 'neutral' };

  /** lumaleasing-documents.tsx progressText. */
  function progressText(p) {
    if (!p) return 'Waiting for the ingestion worker…';
    var parts = [STAGES[p.stage] || p.stage];
    if (p.pages !== null && p.pages !== undefined) parts.push(p.pages + (p.pages === 1 ? ' page' : ' pages'));
    if (p.chunksTotal !== null && p.chunksTotal !== undefined)
      parts.push(p.chunksEmbedded + ' of ' + p.chunksTotal + ' chunks embedded');
    return parts.join(' · ');
  }

  /** A document being ingested: polls GET /v1/lumaleasing/documents/:id and redraws its row until it settles. */
  function pollDocument(row) {
    var url = row.getAttribute('data-document-url');
    var every = 1500;
    var bar = $('[data-progress-bar]', row);
    var text = $('[data-progress-text]', row);
    function cell(name) {
      return $('[data-cell="' + name + '"]', row);
    }
    function render(doc, progress) {
      row.setAttribute('data-status', doc.status);
      var badge = $('[data-cell="status"] .badge', row);
      if (badge) {
        badge.textContent = doc.status;
        badge.setAttribute('data-status', doc.status);
        badge.className = 'badge badge-' + (DOC_TONES[doc.status] || 'neutral');
      }
      var running = doc.status === 'pending' || doc.status === 'processing';
      cell('progress').hidden = !running;
      if (running) {
        if (progress && progress.chunksTotal) {
          bar.value = Math.min(100, Math.round((progress.chunksEmbedded / progress.chunksTotal) * 100));
        } else {
          bar.removeAttribute('value');
        }
        text.textContent = progressText(progress);
      }
      var error = cell('error');
      error.textContent = doc.error || '';
      error.hidden = !doc.error;
      cell('pages').textContent = doc.pages === null || doc.pages === undefined ? '—' : String(doc.pages);
      cell('chunks').textContent =
        doc.chunkCount === null || doc.chunkCount === undefined ? '—' : String(doc.chunkCount);
      cell('version').textContent = 'v' + doc.latestVersion;
      return running;
    }
    function tick() {
      api('GET', url).then(function (result) {
        if (result.status === 401) return goToSignIn();
        if (result.status === 404) {
          row.classList.add('row-muted');
          text.textContent = 'This document was deleted.';
          return;
        }
        if (!result.ok || !result.data || !result.data.document) {
          text.textContent = errorMessage(result) + ' Retrying…';
          return setTimeout(tick, every * 2);
        }
        if (render(result.data.document, result.data.progress)) return setTimeout(tick, every);
        row.removeAttribute('data-document-url');
        var doc = result.data.document;
        flash(
          doc.status === 'ready'
            ? '“' + doc.title + '” is ready: the assistant answers from it now.'
            : '“' + doc.title + '”: ' + (doc.error || doc.status) + '.',
          doc.status === 'failed',
        );
      });
    }
    setTimeout(tick, every);
  }

  /** Settings: the preview follows the form as it is edited. */
  function updatePreview(source) {
    var preview = $('[data-chat-preview]');
    if (!preview) return;
    var name = source.getAttribute('data-preview-source');
    if (name === 'brandColor') {
      preview.style.setProperty('--brand', source.value);
      var label = $('[data-color-value]');
      if (label) label.textContent = source.value;
      return;
    }
    var target = $('[data-preview="' + name + '"]', preview);
    if (!target) return;
    if (!target.hasAttribute('data-default')) target.setAttribute('data-default', target.textContent);
    target.textContent = source.value.trim() || (name === 'botName' ? 'Luma' : target.getAttribute('data-default'));
  }

  document.addEventListener('input', function (event) {
    var source = event.target;
    if (source instanceof HTMLElement && source.hasAttribute('data-preview-source')) updatePreview(source);
  });

  /** Buttons that open a <dialog> (replace a document's file) and the dialog's own Cancel. */
  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var opener = target.closest('[data-open-dialog]');
    if (opener) {
      var dialog = $(opener.getAttribute('data-open-dialog'));
      if (dialog && typeof dialog.showModal === 'function') dialog.showModal();
      return;
    }
    var closer = target.closest('[data-close-dialog]');
    if (closer) {
      var open = closer.closest('dialog');
      if (open) open.close();
    }
  });

  /** Copy buttons for the public URL and the widget snippet. */
  document.addEventListener('click', function (event) {
    var button = event.target instanceof Element ? event.target.closest('[data-copy-target]') : null;
    if (!button) return;
    var target = $(button.getAttribute('data-copy-target'));
    if (!target) return;
    var done = function () {
      button.textContent = 'Copied';
      button.setAttribute('data-copied', '');
      setTimeout(function () {
        button.textContent = 'Copy';
      }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(target.textContent).then(done, function () {
        selectText(target);
      });
    } else {
      selectText(target);
    }
  });

  function initLumaLeasing() {
    $all('[data-transcript][data-poll-url]').forEach(pollTranscript);
    $all('tr[data-document-url]').forEach(pollDocument);
    var preview = $('[data-chat-preview]');
    if (preview) preview.style.setProperty('--brand', preview.getAttribute('data-brand-color'));
  }

  function init() {
    showStoredFlash();
    var format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    var precise = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
    $all('time[data-local]').forEach(function (el) {
      var date = new Date(el.getAttribute('datetime'));
      if (isNaN(date.getTime())) return;
      el.title = el.textContent;
      el.textContent = (el.getAttribute('data-local') === 'precise' ? precise : format).format(date);
    });
    // Selects remember their server-rendered value so a failed change can be undone.
    $all('select[data-api-change]').forEach(function (el) {
      el.setAttribute('data-previous', el.value);
    });
    $all('[data-channel-select]').forEach(showChannel);
    $all('[data-progress][data-poll]').forEach(pollProgress);
    var reloadAfter = $('[data-reload-after]');
    if (reloadAfter) {
      var wait = Number(reloadAfter.getAttribute('data-reload-after')) || 3000;
      var reloadLater = function () {
        if (document.activeElement instanceof HTMLInputElement) return setTimeout(reloadLater, wait);
        location.reload();
      };
      setTimeout(reloadLater, wait);
    }
    initLumaLeasing();
    var box = $('[data-auto-refresh]');
    if (box) {
      try {
        box.checked = localStorage.getItem(AUTO_REFRESH_KEY) === '1';
      } catch (e) {
        box.checked = false;
      }
      scheduleRefresh(box);
    }
  }

  // Shared with the product scripts loaded after this one (leads.js), so they do not carry their own copies.
  window.P11Admin = { api: api, $: $, $all: $all, FLASH_KEY: FLASH_KEY };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
