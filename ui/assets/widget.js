/*
 * P11 LumaLeasing chat widget. Plain JavaScript, no build step, no dependencies.
 *
 *   <script src="https://console.example.com/widget.js" data-property="<property id>" async></script>
 *
 * Options (attributes of the script tag):
 *   data-property  the property's id (required)
 *   data-mode      "launcher" (default: a button in the corner opening a panel) or "page" (the panel fills
 *                  the element named by data-target; used by the public chat page /chat/<org>/<property>)
 *   data-target    the id of the element the page-mode panel fills
 *
 * The API origin is the origin of this script's own src, so the snippet works on any website. Everything is
 * drawn inside a Shadow DOM, so the host page's CSS cannot reach it (and ours cannot leak out); styles are
 * constructed stylesheets, which a host page's Content-Security-Policy does not block. The conversation id
 * and its token are kept in localStorage per property, so a reload continues the same conversation.
 *
 * Stable hooks for tests (inside the shadow root of [data-p11-chat-host]): [data-p11-launcher],
 * [data-p11-panel], [data-p11-input], [data-p11-send], [data-p11-log] > li[data-role][data-seq],
 * [data-p11-citations], [data-p11-status], [data-p11-contact-open], form[data-p11-contact] with inputs
 * name/email/phone, [data-p11-contact-done], [data-p11-error].
 */
(function () {
  'use strict';

  var script =
    document.currentScript ||
    (function () {
      var all = document.querySelectorAll('script[src*="widget.js"][data-property]');
      return all[all.length - 1] || null;
    })();
  if (!script) return;
  var propertyId = (script.getAttribute('data-property') || '').trim();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(propertyId)) {
    if (window.console) console.warn('[p11-chat] data-property must be a property id');
    return;
  }
  var pageMode = script.getAttribute('data-mode') === 'page';
  var targetId = script.getAttribute('data-target');
  var apiBase = new URL(script.src, window.location.href).origin + '/public/chat';

  // One widget per property per page, even if the snippet is pasted twice.
  var registry = (window.__p11Chat = window.__p11Chat || {});
  if (registry[propertyId]) return;
  registry[propertyId] = true;

  var STORAGE_KEY = 'p11-chat:' + propertyId;
  var POLL_STAFF_MS = 3000;
  var POLL_IDLE_MS = 10000;

  var CSS = [
    ':host { all: initial; }',
    '*, *::before, *::after { box-sizing: border-box; }',
    '.root { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1d2430;',
    '  --brand: #1f6feb; --brand-ink: #fff; }',
    '.launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483646; width: 56px; height: 56px;',
    '  border-radius: 50%; border: 0; background: var(--brand); color: var(--brand-ink); cursor: pointer;',
    '  box-shadow: 0 6px 20px rgba(0,0,0,.22); display: flex; align-items: center; justify-content: center; }',
    '.launcher:focus-visible { outline: 3px solid #111; outline-offset: 3px; }',
    '.launcher svg { width: 26px; height: 26px; fill: currentColor; }',
    '.launcher .dot { position: absolute; top: 6px; right: 6px; width: 12px; height: 12px; border-radius: 50%;',
    '  background: #e5484d; border: 2px solid #fff; }',
    '.panel { display: flex; flex-direction: column; background: #fff; overflow: hidden; }',
    '.panel[hidden], [hidden] { display: none !important; }',
    '.launcher-mode .panel { position: fixed; right: 20px; bottom: 88px; z-index: 2147483647; width: 370px;',
    '  max-width: calc(100vw - 24px); height: 560px; max-height: calc(100vh - 110px); border-radius: 14px;',
    '  box-shadow: 0 12px 40px rgba(0,0,0,.25); }',
    '@media (max-width: 480px) { .launcher-mode .panel { right: 0; bottom: 0; width: 100vw; max-width: 100vw;',
    '  height: 100%; max-height: 100%; border-radius: 0; } }',
    '.page-mode .panel { width: 100%; height: 100%; min-height: 420px; border-radius: 12px;',
    '  box-shadow: 0 2px 10px rgba(0,0,0,.08); }',
    '.head { background: var(--brand); color: var(--brand-ink); padding: 12px 14px; display: flex;',
    '  align-items: center; gap: 10px; }',
    '.head .title { flex: 1; min-width: 0; }',
    '.head strong { display: block; font-size: 15px; }',
    '.head .sub { display: block; font-size: 12px; opacity: .9; white-space: nowrap; overflow: hidden;',
    '  text-overflow: ellipsis; }',
    '.icon-btn { background: transparent; border: 0; color: inherit; font-size: 22px; line-height: 1; cursor: pointer;',
    '  padding: 4px 8px; border-radius: 6px; }',
    '.icon-btn:focus-visible { outline: 2px solid currentColor; }',
    '.status { background: #fff8e6; color: #6b4e00; font-size: 12px; padding: 6px 14px; border-bottom: 1px solid #f1e2b8; }',
    '.log { list-style: none; margin: 0; padding: 14px; flex: 1; overflow-y: auto; display: flex;',
    '  flex-direction: column; gap: 10px; background: #f7f8fa; }',
    '.msg { max-width: 85%; display: flex; flex-direction: column; gap: 3px; }',
    '.msg .bubble { padding: 8px 12px; border-radius: 14px; white-space: pre-wrap; word-wrap: break-word; }',
    '.msg .who { font-size: 11px; color: #667085; padding: 0 4px; }',
    '.msg-visitor { align-self: flex-end; }',
    '.msg-visitor .bubble { background: var(--brand); color: var(--brand-ink); border-bottom-right-radius: 4px; }',
    '.msg-assistant, .msg-staff { align-self: flex-start; }',
    '.msg-assistant .bubble { background: #fff; border: 1px solid #e4e7ec; border-bottom-left-radius: 4px; }',
    '.msg-staff .bubble { background: #eef6ee; border: 1px solid #cfe6cf; border-bottom-left-radius: 4px; }',
    '.msg-system { align-self: center; max-width: 95%; }',
    '.msg-system .bubble { background: transparent; color: #667085; font-size: 12px; text-align: center; padding: 2px 8px; }',
    '.msg.pending .bubble { opacity: .65; }',
    '.cites { font-size: 11.5px; color: #475467; padding: 0 4px; }',
    '.cites span { display: inline-block; background: #eef1f5; border-radius: 10px; padding: 1px 8px; margin: 2px 4px 0 0; }',
    '.typing .bubble { color: #667085; }',
    '.actions { padding: 6px 14px 0; background: #fff; border-top: 1px solid #eaecf0; }',
    '.link { background: none; border: 0; padding: 2px 0; color: var(--brand); cursor: pointer; font: inherit;',
    '  font-size: 12.5px; text-decoration: underline; }',
    '.composer { display: flex; gap: 8px; padding: 8px 14px 12px; background: #fff; }',
    '.composer textarea { flex: 1; resize: none; font: inherit; padding: 9px 11px; border: 1px solid #d0d5dd;',
    '  border-radius: 10px; min-height: 40px; max-height: 120px; color: inherit; background: #fff; }',
    '.composer textarea:focus, .contact input:focus { outline: 2px solid var(--brand); outline-offset: -1px; }',
    '.btn { background: var(--brand); color: var(--brand-ink); border: 0; border-radius: 10px; padding: 0 14px;',
    '  font: inherit; font-weight: 600; cursor: pointer; min-height: 40px; }',
    '.btn[disabled] { opacity: .55; cursor: default; }',
    '.btn.secondary { background: #eef1f5; color: #1d2430; }',
    '.contact { padding: 10px 14px; background: #fff; border-top: 1px solid #eaecf0; display: grid; gap: 8px; }',
    '.contact p { margin: 0; font-size: 12.5px; color: #475467; }',
    '.contact label { display: grid; gap: 2px; font-size: 12px; color: #475467; }',
    '.contact input { font: inherit; padding: 8px 10px; border: 1px solid #d0d5dd; border-radius: 8px; color: inherit; }',
    '.contact .row { display: flex; gap: 8px; justify-content: flex-end; }',
    '.error { background: #fef3f2; color: #b42318; font-size: 12.5px; padding: 6px 14px; }',
  ].join('\n');

  var state = {
    property: null,
    conversation: loadStored(),
    seen: {},
    lastSeq: -1,
    mode: 'ai',
    open: pageMode,
    sending: false,
    pollTimer: null,
    unread: false,
  };

  function loadStored() {
    try {
      var raw = window.localStorage.getItem(STORAGE_KEY);
      var parsed = raw ? JSON.parse(raw) : null;
      return parsed && parsed.conversationId && parsed.visitorToken ? parsed : null;
    } catch (e) {
      return null;
    }
  }

  function store(value) {
    try {
      if (value) window.localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
      else window.localStorage.removeItem(STORAGE_KEY);
    } catch (e) {
      /* Storage can be unavailable (private mode, sandboxed frames): the chat still works for this page view. */
    }
  }

  function api(method, path, body) {
    var headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (state.conversation) headers['X-Visitor-Token'] = state.conversation.visitorToken;
    return fetch(apiBase + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      mode: 'cors',
    }).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try {
          data = text ? JSON.parse(text) : null;
        } catch (e) {
          data = null;
        }
        if (!res.ok) {
          var err = new Error(
            (data && data.error && data.error.message) || 'The chat is unavailable (' + res.status + ')',
          );
          err.status = res.status;
          err.code = data && data.error ? data.error.code : null;
          err.retryAfter = Number(res.headers.get('retry-after')) || null;
          throw err;
        }
        return data;
      });
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var key in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, key) || attrs[key] == null || attrs[key] === false) continue;
        if (key === 'text') node.textContent = attrs[key];
        else if (key === 'class') node.className = attrs[key];
        else node.setAttribute(key, attrs[key] === true ? '' : attrs[key]);
      }
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  var SVG_NS = 'http://www.w3.org/2000/svg';
  function chatIcon() {
    var svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    var path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute(
      'd',
      'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 0 3 ' +
        '1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z',
    );
    svg.appendChild(path);
    return svg;
  }

  var ui = {};

  function build(property) {
    var host = document.createElement('div');
    host.setAttribute('data-p11-chat-host', propertyId);
    var container = pageMode && targetId ? document.getElementById(targetId) : null;
    if (pageMode && container) {
      host.style.setProperty('display', 'flex', 'important');
      host.style.setProperty('flex', '1');
      host.style.setProperty('width', '100%');
      host.style.setProperty('min-height', '0');
      container.appendChild(host);
    } else {
      pageMode = false;
      state.open = false;
      host.style.setProperty('display', 'block', 'important');
      document.body.appendChild(host);
    }
    var shadow = host.attachShadow({ mode: 'open' });
    applyStyles(shadow);

    var root = el('div', { class: 'root ' + (pageMode ? 'page-mode' : 'launcher-mode') });
    if (pageMode) root.style.setProperty('width', '100%');
    if (property.brandColor) {
      root.style.setProperty('--brand', property.brandColor);
      root.style.setProperty('--brand-ink', inkFor(property.brandColor));
    }

    ui.launcher = pageMode
      ? null
      : el('button', {
          type: 'button',
          class: 'launcher',
          'aria-label': 'Chat with ' + property.botName,
          'aria-expanded': 'false',
          'data-p11-launcher': true,
        });
    if (ui.launcher) {
      // Built node by node: no innerHTML anywhere, so host pages enforcing Trusted Types are fine too.
      ui.launcher.appendChild(chatIcon());
      ui.dot = el('span', { class: 'dot', hidden: true });
      ui.launcher.appendChild(ui.dot);
      ui.launcher.addEventListener('click', function () {
        setOpen(!state.open);
      });
    }

    ui.close = pageMode
      ? null
      : el('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close chat', text: '×' });
    if (ui.close)
      ui.close.addEventListener('click', function () {
        setOpen(false);
        if (ui.launcher) ui.launcher.focus();
      });
    ui.status = el('div', { class: 'status', role: 'status', hidden: true, 'data-p11-status': true });
    ui.log = el('ol', { class: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', 'data-p11-log': true });
    ui.error = el('div', { class: 'error', role: 'alert', hidden: true, 'data-p11-error': true });
    ui.input = el('textarea', {
      rows: '1',
      maxlength: '4000',
      placeholder: 'Ask about pets, parking, fees…',
      'aria-label': 'Your message',
      'data-p11-input': true,
    });
    ui.send = el('button', { type: 'submit', class: 'btn', text: 'Send', 'data-p11-send': true });
    ui.composer = el('form', { class: 'composer' }, [ui.input, ui.send]);
    ui.contactOpen = el('button', {
      type: 'button',
      class: 'link',
      text: 'Leave your details',
      'data-p11-contact-open': true,
    });
    ui.actions = el('div', { class: 'actions' }, [ui.contactOpen]);
    ui.contact = buildContactForm();

    ui.panel = el(
      'section',
      {
        class: 'panel',
        role: pageMode ? 'region' : 'dialog',
        'aria-label': 'Chat with ' + property.botName,
        hidden: !state.open,
        'data-p11-panel': true,
      },
      [
        el('header', { class: 'head' }, [
          el('div', { class: 'title' }, [
            el('strong', { text: property.botName }),
            el('span', { class: 'sub', text: property.name }),
          ]),
          ui.close,
        ]),
        ui.status,
        ui.log,
        ui.error,
        ui.contact,
        ui.actions,
        ui.composer,
      ],
    );
    root.appendChild(ui.panel);
    if (ui.launcher) root.appendChild(ui.launcher);
    shadow.appendChild(root);

    ui.composer.addEventListener('submit', function (event) {
      event.preventDefault();
      sendMessage();
    });
    ui.input.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendMessage();
      }
    });
    ui.input.addEventListener('input', autosize);
    ui.panel.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && !pageMode) {
        setOpen(false);
        if (ui.launcher) ui.launcher.focus();
      }
    });
    ui.contactOpen.addEventListener('click', function () {
      ui.contact.hidden = false;
      ui.actions.hidden = true;
      ui.contact.querySelector('input[name="name"]').focus();
    });
    if (state.conversation && state.conversation.contactLeft) ui.actions.hidden = true;
  }

  function buildContactForm() {
    function field(label, name, type, autocomplete) {
      return el('label', {}, [
        label,
        el('input', { name: name, type: type, autocomplete: autocomplete, maxlength: name === 'name' ? '200' : '254' }),
      ]);
    }
    var form = el('form', { class: 'contact', hidden: true, 'data-p11-contact': true, novalidate: true }, [
      el('p', { text: 'Leave your name and an email or phone number, and the leasing team will get back to you.' }),
      field('Name', 'name', 'text', 'name'),
      field('Email', 'email', 'email', 'email'),
      field('Phone', 'phone', 'tel', 'tel'),
      el('div', { class: 'row' }, [
        el('button', { type: 'button', class: 'btn secondary', text: 'Cancel', 'data-p11-contact-cancel': true }),
        el('button', { type: 'submit', class: 'btn', text: 'Send details', 'data-p11-contact-submit': true }),
      ]),
    ]);
    form.querySelector('[data-p11-contact-cancel]').addEventListener('click', function () {
      form.hidden = true;
      ui.actions.hidden = false;
    });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      submitContact(form);
    });
    return form;
  }

  function applyStyles(shadow) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } catch (e) {
      // Older browsers: a <style> element (a strict host-page CSP may block this one).
      shadow.appendChild(el('style', { text: CSS }));
    }
  }

  /** Black or white text, whichever reads better on the brand colour. */
  function inkFor(hex) {
    var n = parseInt(hex.slice(1), 16);
    var r = (n >> 16) & 255;
    var g = (n >> 8) & 255;
    var b = n & 255;
    return 0.299 * r + 0.587 * g + 0.114 * b > 170 ? '#111' : '#fff';
  }

  function autosize() {
    ui.input.style.height = 'auto';
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + 'px';
  }

  function setOpen(open) {
    state.open = open;
    ui.panel.hidden = !open;
    if (ui.launcher) ui.launcher.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) {
      state.unread = false;
      if (ui.dot) ui.dot.hidden = true;
      scrollToEnd();
      ui.input.focus();
    }
    schedulePoll(0);
  }

  function showError(message) {
    ui.error.textContent = message || '';
    ui.error.hidden = !message;
  }

  function citationsText(citations) {
    var seen = {};
    var out = [];
    (citations || []).forEach(function (c) {
      var label = c.title + (c.page ? ', p. ' + c.page : '');
      if (seen[label]) return;
      seen[label] = true;
      out.push(label);
    });
    return out;
  }

  function authorLabel(m) {
    if (m.role === 'assistant') return state.property.botName;
    if (m.role === 'staff') return (m.author ? m.author + ' · ' : '') + 'Leasing team';
    return null;
  }

  function renderMessage(m, extraClass) {
    var who = authorLabel(m);
    var cites = m.role === 'assistant' ? citationsText(m.citations) : [];
    var attrs = { class: 'msg msg-' + m.role + (extraClass ? ' ' + extraClass : ''), 'data-role': m.role };
    if (typeof m.seq === 'number') attrs['data-seq'] = String(m.seq);
    if (m.declined) attrs['data-declined'] = true;
    return el('li', attrs, [
      who ? el('span', { class: 'who', text: who }) : null,
      el('div', { class: 'bubble', text: m.content }),
      cites.length
        ? el(
            'div',
            { class: 'cites', 'data-p11-citations': true },
            ['Sources: '].concat(
              cites.map(function (label) {
                return el('span', { text: label });
              }),
            ),
          )
        : null,
    ]);
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  /** Adds a stored message once, whether it came from a reply, a poll, or the transcript on load. */
  function addMessage(m) {
    if (typeof m.seq === 'number') {
      if (state.seen[m.seq]) return;
      state.seen[m.seq] = true;
      if (m.seq > state.lastSeq) state.lastSeq = m.seq;
    }
    ui.log.appendChild(renderMessage(m));
    if (!state.open && m.role !== 'visitor') {
      state.unread = true;
      if (ui.dot) ui.dot.hidden = false;
    }
    scrollToEnd();
  }

  function setMode(mode) {
    var changed = (mode === 'staff' ? 'staff' : 'ai') !== state.mode;
    state.mode = mode === 'staff' ? 'staff' : 'ai';
    ui.status.hidden = state.mode !== 'staff';
    ui.status.textContent = state.mode === 'staff' ? 'A member of the leasing team is answering you.' : '';
    // The status line takes room from the log: keep the newest message in view.
    if (changed) scrollToEnd();
  }

  function greet() {
    ui.log.appendChild(renderMessage({ role: 'assistant', content: state.property.greeting, citations: [] }));
  }

  function ensureConversation() {
    if (state.conversation) return Promise.resolve(state.conversation);
    return api('POST', '/properties/' + propertyId + '/conversations', {
      channel: pageMode ? 'page' : 'widget',
      pageUrl: /^https?:/.test(window.location.href) ? window.location.href.slice(0, 2000) : undefined,
    }).then(function (created) {
      state.conversation = { conversationId: created.conversationId, visitorToken: created.visitorToken };
      store(state.conversation);
      return state.conversation;
    });
  }

  function forgetConversation() {
    state.conversation = null;
    state.seen = {};
    state.lastSeq = -1;
    store(null);
    setMode('ai');
  }

  function describeError(err) {
    if (err && err.status === 429) {
      return 'You are sending messages quickly. Please wait ' + (err.retryAfter || 'a few') + ' seconds.';
    }
    if (err && err.code === 'answer_timeout') return 'The answer is taking a while; it will appear here shortly.';
    return (err && err.message) || 'Something went wrong. Please try again.';
  }

  function sendMessage() {
    var text = ui.input.value.trim();
    if (!text || state.sending) return;
    state.sending = true;
    ui.send.disabled = true;
    showError(null);
    var pending = renderMessage({ role: 'visitor', content: text }, 'pending');
    ui.log.appendChild(pending);
    var typing = state.mode === 'staff' ? null : renderMessage({ role: 'assistant', content: '…' }, 'typing');
    if (typing) ui.log.appendChild(typing);
    scrollToEnd();
    ui.input.value = '';
    autosize();

    ensureConversation()
      .then(function (conversation) {
        return api('POST', '/conversations/' + conversation.conversationId + '/messages', { text: text });
      })
      .then(function (result) {
        pending.remove();
        if (typing) typing.remove();
        addMessage(result.message);
        if (result.reply) addMessage(result.reply);
        setMode(result.mode);
        schedulePoll(state.mode === 'staff' ? POLL_STAFF_MS : POLL_IDLE_MS);
      })
      .catch(function (err) {
        if (typing) typing.remove();
        if (err && err.code === 'answer_timeout') {
          pending.remove();
          schedulePoll(1000);
        } else {
          pending.remove();
          if (err && err.status === 404 && state.conversation) forgetConversation();
          if (!(err && err.status === 429)) ui.input.value = ui.input.value || text;
        }
        showError(describeError(err));
      })
      .then(function () {
        state.sending = false;
        ui.send.disabled = false;
      });
  }

  function submitContact(form) {
    var name = form.elements.name.value.trim();
    var email = form.elements.email.value.trim();
    var phone = form.elements.phone.value.trim();
    if (!name || (!email && !phone)) {
      showError('Please leave your name and an email or phone number.');
      return;
    }
    var submit = form.querySelector('[data-p11-contact-submit]');
    submit.disabled = true;
    showError(null);
    var body = { name: name };
    if (email) body.email = email;
    if (phone) body.phone = phone;
    ensureConversation()
      .then(function (conversation) {
        return api('POST', '/conversations/' + conversation.conversationId + '/contact', body);
      })
      .then(function () {
        form.hidden = true;
        ui.actions.hidden = true;
        state.conversation.contactLeft = true;
        store(state.conversation);
        ui.log.appendChild(
          el('li', { class: 'msg msg-system', 'data-p11-contact-done': true }, [
            el('div', {
              class: 'bubble',
              text: 'Thanks, ' + name + '! The leasing team will be in touch.',
            }),
          ]),
        );
        scrollToEnd();
      })
      .catch(function (err) {
        showError(describeError(err));
      })
      .then(function () {
        submit.disabled = false;
      });
  }

  function schedulePoll(delay) {
    if (state.pollTimer) clearTimeout(state.pollTimer);
    state.pollTimer = null;
    if (!state.conversation) return;
    // Closed panel: keep listening only while staff has the conversation (to show the unread dot).
    if (!state.open && state.mode !== 'staff') return;
    var wait = typeof delay === 'number' ? delay : state.mode === 'staff' ? POLL_STAFF_MS : POLL_IDLE_MS;
    state.pollTimer = setTimeout(poll, wait);
  }

  function poll() {
    state.pollTimer = null;
    if (!state.conversation) return;
    if (document.hidden || state.sending) {
      schedulePoll();
      return;
    }
    fetchTranscript(state.lastSeq).then(
      function () {
        schedulePoll();
      },
      function () {
        schedulePoll(POLL_IDLE_MS * 2);
      },
    );
  }

  function fetchTranscript(after) {
    var conversation = state.conversation;
    return api('GET', '/conversations/' + conversation.conversationId + '/messages?after=' + after).then(
      function (data) {
        (data.messages || []).forEach(addMessage);
        setMode(data.mode);
      },
      function (err) {
        // The conversation is gone or the chat was switched off: start afresh next time.
        if (err && err.status === 404 && state.conversation === conversation) forgetConversation();
        throw err;
      },
    );
  }

  function start() {
    api('GET', '/properties/' + propertyId).then(
      function (data) {
        state.property = data.property;
        build(state.property);
        greet();
        if (state.conversation) {
          fetchTranscript(-1).then(
            function () {
              schedulePoll();
            },
            function () {},
          );
        }
        document.addEventListener('visibilitychange', function () {
          if (!document.hidden) schedulePoll(0);
        });
      },
      function (err) {
        // A switched-off chat shows nothing on a website; the public page says why.
        if (window.console) console.warn('[p11-chat] chat unavailable: ' + (err && err.message));
        if (pageMode && targetId) {
          var target = document.getElementById(targetId);
          if (target) target.appendChild(el('p', { class: 'notice', text: 'The chat is not available right now.' }));
        }
      },
    );
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
