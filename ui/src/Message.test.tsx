import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Message } from "./Message";

describe("Message", () => {
  it("shows a command between backticks as code, never the backticks", () => {
    const { container } = render(<Message text="Create one with `ssh-keygen -t ed25519` and paste that." />);
    expect(container.textContent).toBe("Create one with ssh-keygen -t ed25519 and paste that.");
    expect(container.querySelector("code")?.textContent).toBe("ssh-keygen -t ed25519");
  });

  it("drops a stray backtick rather than showing it", () => {
    const { container } = render(<Message text="it has no `server: line" />);
    expect(container.textContent).toBe("it has no server: line");
  });
});
