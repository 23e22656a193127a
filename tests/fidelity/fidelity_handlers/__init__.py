"""One small durable handler per operation kind the SDK offers.

Each module imports nothing but the durable SDK and the standard library: the
same file runs in-process (imported as ``tests.fidelity.handlers.<kind>``) and
on the live stack, where the template writer copies this folder, as the
package ``fidelity_handlers``, into a code folder outside the repository.
"""
