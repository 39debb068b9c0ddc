/* ckpt_save_context / ckpt_resume_context (see context_switch.h).
   JumpContext layout: rbx, rbp, r12, r13, r14, r15, rsp, rip (8 bytes each). */
	.text
	.globl ckpt_save_context
	.hidden ckpt_save_context
	.type ckpt_save_context, @function
ckpt_save_context:
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rdx        /* rsp after return */
	movq %rdx, 48(%rdi)
	movq (%rsp), %rdx         /* return address */
	movq %rdx, 56(%rdi)
	xorl %eax, %eax
	ret
	.size ckpt_save_context, .-ckpt_save_context

	.globl ckpt_resume_context
	.hidden ckpt_resume_context
	.type ckpt_resume_context, @function
ckpt_resume_context:
	movq %rsi, %rax
	movq 0(%rdi), %rbx
	movq 8(%rdi), %rbp
	movq 16(%rdi), %r12
	movq 24(%rdi), %r13
	movq 32(%rdi), %r14
	movq 40(%rdi), %r15
	movq 48(%rdi), %rsp
	jmpq *56(%rdi)
	.size ckpt_resume_context, .-ckpt_resume_context

/* long ckpt_clone_resume(flags, stack, parent_tid, child_tid, tls, ctx)
   Raw clone(2) whose child immediately resumes `ctx` with value 1.
   The parent gets the child's tid or -errno. */
	.globl ckpt_clone_resume
	.hidden ckpt_clone_resume
	.type ckpt_clone_resume, @function
ckpt_clone_resume:
	pushq %r12
	movq %r9, %r12            /* ctx, preserved across syscall and inherited by the child */
	movq %rcx, %r10           /* child_tid is the 4th syscall argument */
	movl $56, %eax            /* __NR_clone: flags, stack, parent_tid, child_tid, tls */
	syscall
	testq %rax, %rax
	jz 1f
	popq %r12
	ret
1:	/* child: new stack, same registers */
	movq %r12, %rdi
	movl $1, %esi
	jmp ckpt_resume_context
	.size ckpt_clone_resume, .-ckpt_clone_resume

/* long ckpt_clone3_resume(struct clone_args* args, size_t size, ctx)
   Raw clone3(2) whose child immediately resumes `ctx` with value 1. */
	.globl ckpt_clone3_resume
	.hidden ckpt_clone3_resume
	.type ckpt_clone3_resume, @function
ckpt_clone3_resume:
	pushq %r12
	movq %rdx, %r12           /* ctx, preserved across syscall and inherited by the child */
	movl $435, %eax           /* __NR_clone3 */
	syscall
	testq %rax, %rax
	jz 1f
	popq %r12
	ret
1:	movq %r12, %rdi
	movl $1, %esi
	jmp ckpt_resume_context
	.size ckpt_clone3_resume, .-ckpt_clone3_resume

	.section .note.GNU-stack,"",@progbits
