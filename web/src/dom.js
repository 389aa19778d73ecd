// Small DOM helpers. Text always goes in through textContent, never HTML.

/** @returns {HTMLElement} */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el;
}

/**
 * element builds an element: attributes by name (true for a bare one such as
 * hidden), then children, strings going in as text.
 * @param {string} tag
 * @param {Record<string, string | true>} [attrs]
 * @param {...(Node | string)} children
 * @returns {HTMLElement}
 */
export function element(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v === true ? '' : v);
  node.append(...children);
  return node;
}

export function show(el, on = true) {
  el.hidden = !on;
}

/** message shows text in a banner element, or hides it when text is empty. */
export function message(el, text) {
  el.textContent = text || '';
  el.hidden = !text;
}

/** fieldError shows (or clears) the error of the input with this id, at the input. */
export function fieldError(inputId, text) {
  const input = $(inputId);
  const out = document.getElementById(`${inputId}-error`);
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
  if (out) message(out, text);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

let toastTimer = 0;

/** toast says something briefly in a polite live region. */
export function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 4000);
}

const focusable = 'a[href], button:not(:disabled), input:not(:disabled), select:not(:disabled), textarea:not(:disabled), summary, [tabindex]:not([tabindex="-1"])';

/**
 * A modal dialog on the native <dialog>: showModal makes the rest of the page
 * inert and Escape closes it; on top of that, Tab and Shift+Tab wrap around
 * inside it, and focus goes back where it was (or to restore()) on close.
 */
export class Modal {
  /**
   * @param {HTMLDialogElement} el
   * @param {{onClose?: () => void}} [opts]
   */
  constructor(el, opts = {}) {
    this.el = el;
    this.restore = null;
    el.addEventListener('keydown', (e) => this.trap(e));
    el.addEventListener('close', () => {
      opts.onClose?.();
      const restore = this.restore;
      this.restore = null;
      if (typeof restore === 'function') restore();
      else if (restore instanceof HTMLElement && restore.isConnected) restore.focus();
    });
    for (const b of el.querySelectorAll('[data-close]')) b.addEventListener('click', () => this.close());
  }

  get open() {
    return this.el.open;
  }

  /**
   * @param {HTMLElement} [first] what to focus first
   * @param {(() => void) | HTMLElement | null} [restore] where focus goes on close (default: where it was)
   */
  show(first, restore) {
    this.restore = restore ?? /** @type {HTMLElement} */ (document.activeElement);
    if (!this.el.open) this.el.showModal();
    (first || this.el.querySelector(focusable))?.focus();
  }

  close() {
    if (this.el.open) this.el.close();
  }

  trap(e) {
    if (e.key !== 'Tab') return;
    const items = [...this.el.querySelectorAll(focusable)].filter((n) => n.offsetParent !== null || n === document.activeElement);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || !this.el.contains(document.activeElement))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }
}
