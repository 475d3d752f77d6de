// Modal dialog on the native <dialog> element (focus trap and Escape come from the browser).
import { useEffect, useRef, type ReactNode } from "react";

/**
 * `dismissible={false}` is for dialogs that show something once (a new token): Escape and clicks outside
 * do nothing, so only the dialog's own button closes it and the secret cannot be lost by a stray key.
 */
export function Modal({
  title,
  onClose,
  children,
  testId,
  dismissible = true,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
  dismissible?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  useEffect(() => {
    const d = ref.current;
    if (!d || dismissible) return;
    // closedby="none" turns off Escape and light dismiss where supported. Elsewhere (WebKit), cancelling the
    // Escape keydown stops the close request itself: browsers let a page veto `cancel` only once without user
    // activation, so a second Escape would otherwise close the dialog despite onCancel.
    d.setAttribute("closedby", "none");
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") e.preventDefault();
    };
    window.addEventListener("keydown", onKey, true);
    return () => {
      d.removeAttribute("closedby");
      window.removeEventListener("keydown", onKey, true);
    };
  }, [dismissible]);
  return (
    <dialog
      ref={ref}
      className="modal"
      aria-labelledby="modal-title"
      data-testid={testId}
      data-dismissible={dismissible}
      onCancel={(e) => {
        e.preventDefault();
        if (dismissible) onClose();
      }}
    >
      <h2 id="modal-title">{title}</h2>
      {children}
    </dialog>
  );
}
